"""Documents made on the spot, for `hearth self-test` (which proves a build reads each format)
and the tests: a PDF written with PDFium itself and a Word file written with python-docx, the two
formats whose readers are native or zipped code a frozen build could leave out.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import docx
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A PDF whose page n holds the lines pages[n], in Helvetica."""
    pdf = pdfium.PdfDocument.new()
    for lines in pages:
        page = pdf.new_page(612, 792)
        y = 740
        for line in lines:
            obj = pdfium_raw.FPDFPageObj_NewTextObj(pdf, b"Helvetica", 12.0)
            buffer = ctypes.create_string_buffer((line + "\0").encode("utf-16-le"))
            pdfium_raw.FPDFText_SetText(obj, ctypes.cast(buffer, ctypes.POINTER(pdfium_raw.FPDF_WCHAR)))
            pdfium_raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 72, y)
            pdfium_raw.FPDFPage_InsertObject(page, obj)
            y -= 16
        pdfium_raw.FPDFPage_GenerateContent(page)
        page.close()
    pdf.save(str(path))
    pdf.close()
    return path


def make_docx(path: Path, fact: str) -> Path:
    """A Word file: a title, headings, the `fact` in a paragraph, a bullet and a small table."""
    document = docx.Document()
    document.core_properties.title = "Facilities handbook"
    document.add_heading("Facilities handbook", level=1)
    document.add_paragraph("General notes about the site.")
    document.add_heading("Maintenance", level=2)
    document.add_paragraph(fact)
    document.add_paragraph("Check the filters", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Room", "Owner"
    table.cell(1, 0).text, table.cell(1, 1).text = "B9", "Ines"
    document.save(str(path))
    return path
