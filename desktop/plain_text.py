"""A message's Markdown as the plain text the transcript shows, for "Copy": emphasis, link and
heading marks gone, list items with their bullets and numbers, table cells apart by tabs (a
table pastes into a spreadsheet as one), code exactly as written, paragraphs apart by a blank
line. Prose is read by Qt's own Markdown reader, the one that renders it on screen, so the
copy says what the person sees; "Copy as Markdown" gives the source."""

from __future__ import annotations

from PySide6.QtGui import QTextBlock, QTextCursor, QTextDocument, QTextListFormat, QTextTable

from desktop.markdown import split_blocks

BULLET = "•"
NUMBERED = {QTextListFormat.Style.ListDecimal, QTextListFormat.Style.ListLowerAlpha,
            QTextListFormat.Style.ListUpperAlpha, QTextListFormat.Style.ListLowerRoman,
            QTextListFormat.Style.ListUpperRoman}


def to_plain_text(markdown: str) -> str:
    parts = [block.text if block.kind == "code" else _prose(block.text) for block in split_blocks(markdown)]
    return "\n\n".join(part for part in parts if part)


def _prose(markdown: str) -> str:
    document = QTextDocument()
    document.setMarkdown(markdown)
    paragraphs: list[str] = []  # list items of one list are one paragraph, a line each
    in_list = None
    it = document.rootFrame().begin()
    while not it.atEnd():
        frame = it.currentFrame()
        if isinstance(frame, QTextTable):
            paragraphs.append(_table(frame))
            in_list = None
        elif frame is None and it.currentBlock().text().strip():
            block = it.currentBlock()
            items = block.textList()
            line = _list_item(block) if items is not None else block.text()
            if items is not None and in_list is not None:
                paragraphs[-1] += "\n" + line
            else:
                paragraphs.append(line)
            in_list = items
        it += 1
    return "\n\n".join(paragraphs)


def _list_item(block: QTextBlock) -> str:
    items = block.textList()
    style = items.format().style()
    marker = items.itemText(block) if style in NUMBERED else BULLET
    return "  " * (items.format().indent() - 1) + f"{marker} {block.text()}"


def _table(table: QTextTable) -> str:
    rows = []
    for r in range(table.rows()):
        cells = []
        for c in range(table.columns()):
            cell = table.cellAt(r, c)
            cursor = cell.firstCursorPosition()
            cursor.setPosition(cell.lastCursorPosition().position(), QTextCursor.MoveMode.KeepAnchor)
            cells.append(" ".join(cursor.selectedText().split()))  # its paragraphs on one line
        rows.append("\t".join(cells))
    return "\n".join(rows)
