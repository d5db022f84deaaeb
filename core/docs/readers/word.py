"""Word .docx files, through python-docx (MIT): paragraphs and tables in reading order, one part
per heading; headings written `# Title`, list items `- item`, table rows `a | b | c`."""

from __future__ import annotations

import re
from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table

from core.docs.errors import Unreadable
from core.docs.readers import Part, Read

HEADING_STYLE = re.compile(r"^Heading ([1-9])$")


def read(path: Path) -> Read:
    try:
        document = docx.Document(str(path))
    except PackageNotFoundError as error:
        raise Unreadable("it is damaged or not a real Word (.docx) file") from error
    parts: list[Part] = []
    lines: list[str] = []
    section: str | None = None
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_rows(block))
            continue
        text = block.text.strip()
        style = block.style.name if block.style is not None else ""
        level = 1 if style == "Title" else int(m.group(1)) if (m := HEADING_STYLE.match(style)) else 0
        if level and text:
            if lines:
                parts.append(Part("\n".join(lines), section=section))
            lines, section = [f"{'#' * level} {text}"], text
        elif text:
            lines.append(f"- {text}" if "List" in style else text)
    if lines:
        parts.append(Part("\n".join(lines), section=section))
    title = (document.core_properties.title or "").strip()
    return Read(title, tuple(parts))


def _table_rows(table: Table) -> list[str]:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:  # a merged cell appears once per grid column it spans
            if id(cell._tc) not in seen:
                seen.add(id(cell._tc))
                cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return rows
