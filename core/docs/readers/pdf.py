"""PDF files, through PDFium (pypdfium2: BSD/Apache licensed): one part per page with text."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium

from core.docs.errors import Unreadable
from core.docs.readers import Part, Read

# PDFium's FPDF_GetLastError codes, as the end of "... could not be read: "
_WHY = {
    2: "it could not be opened",
    3: "it is damaged or not a real PDF",
    4: "it is protected by a password",
    5: "its security settings do not allow reading it",
    6: "a page of it is damaged",
}


def read(path: Path) -> Read:
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as error:
        raise Unreadable(_WHY.get(getattr(error, "err_code", None), "it is damaged or not a real PDF")) from error
    try:
        title = (pdf.get_metadata_value("Title") or "").strip()
        parts = []
        for number in range(1, len(pdf) + 1):
            page = pdf[number - 1]
            try:
                text_page = page.get_textpage()
                text = text_page.get_text_range()
                text_page.close()
            finally:
                page.close()
            text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
            if text:
                parts.append(Part(text, page=number))
    finally:
        pdf.close()
    if not parts:
        raise Unreadable("it has no text to read (a scanned document? Hearth does not read text in pictures)")
    return Read(title, tuple(parts))
