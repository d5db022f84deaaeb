"""A document as the browser tool shows it: numbered lines wrapped at 80 columns, each knowing
where in the file it comes from; and the chunks the search index holds, as ranges of those lines.

The index and the browser lay a document out with these same functions, so a hit's line number
is the line `open` shows and the line a citation `【cursor†L12】` names.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from core.docs.readers import Part

WRAP_WIDTH = 80  # the reference browser (openai/gpt-oss simple_browser) wraps its pages at 80 columns
CHUNK_CHARS = 1200  # about a screenful of text: small enough that a hit points near its words
_LINK_MARKS = str.maketrans({"【": "〖", "】": "〗"})  # a document must not forge the tool's link marks


@dataclass(frozen=True)
class Origin:
    """Where a line of a document comes from."""

    page: int | None = None  # 1-based PDF page
    line: int | None = None  # 1-based line of the source file (text, Markdown)
    section: str | None = None  # the heading above it


@dataclass(frozen=True)
class Line:
    text: str
    origin: Origin
    continued: bool = False  # the rest of the source line above, wrapped onto this one
    marker: bool = False  # a line the layout adds (URL, page number), not the document's text


def wrap(text: str, width: int = WRAP_WIDTH) -> list[str]:
    """One source line as display lines: wrapped at `width`, whitespace kept, an empty line kept."""
    if not text:
        return [""]
    return textwrap.wrap(text, width=width, replace_whitespace=False, drop_whitespace=False) or [""]


def document_lines(url: str, parts: Sequence[Part]) -> list[Line]:
    """L0 is `URL: file://...`, as the reference shows a fetched page; a PDF page starts with a
    `[page N]` line, so the model can tell where it is reading."""
    lines = [Line(f"URL: {url}", Origin(), marker=True)]
    page = None
    for part in parts:
        if part.page is not None and part.page != page:
            page = part.page
            lines.append(Line(f"[page {page}]", Origin(page=page, section=part.section), marker=True))
        for k, source in enumerate(part.text.split("\n")):
            origin = Origin(part.page, part.first_line + k if part.first_line else None, part.section)
            for n, piece in enumerate(wrap(source.translate(_LINK_MARKS))):
                lines.append(Line(piece, origin, continued=n > 0))
    return lines


@dataclass(frozen=True)
class Chunk:
    first: int  # index of its first line in `document_lines`
    last: int  # index of its last line, inclusive
    text: str  # what the index searches: wrapped pieces of one source line joined back together
    view: str  # the lines as shown, joined by "\n"
    origin: Origin  # of its first line


def chunks(lines: Sequence[Line], size: int = CHUNK_CHARS) -> list[Chunk]:
    """Consecutive lines of one page and section, about `size` characters each, cut between
    source lines when possible (a phrase wrapped across two lines stays findable)."""
    found: list[Chunk] = []
    start, count = None, 0

    def close(end: int) -> None:
        if start is not None and end >= start:
            group = lines[start:end + 1]
            text = "".join(("" if line.continued else "\n") + line.text for line in group).lstrip("\n")
            if text.strip():
                found.append(Chunk(start, end, text, "\n".join(line.text for line in group), group[0].origin))

    for i, line in enumerate(lines):
        if line.marker:
            close(i - 1)
            start, count = None, 0
            continue
        if start is not None:
            previous = lines[i - 1].origin
            moved = (previous.page, previous.section) != (line.origin.page, line.origin.section)
            if moved or (count >= size and not line.continued) or count >= 4 * size:
                close(i - 1)
                start, count = None, 0
        if start is None:
            start = i
        count += len(line.text) + 1
    close(len(lines) - 1)
    return found
