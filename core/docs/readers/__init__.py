"""Reading documents into text: one module per format, each a `read(path) -> Read`.

A reader returns the text in `Part`s: a PDF page, or the stretch under one heading of a Word,
HTML or Markdown file, or a whole text file; each part knows where it came from so a search hit
and a citation can say "page 4" or "line 120". A file that cannot be read raises
`core.docs.errors.Unreadable` with the end of a sentence; anything else a format library raises
is caught by the indexer, which skips the file with a sentence of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Part:
    text: str  # lines separated by "\n"
    page: int | None = None  # 1-based PDF page
    section: str | None = None  # the heading this part falls under
    first_line: int | None = None  # 1-based line of the source file where `text` starts (text, Markdown)


@dataclass(frozen=True)
class Read:
    title: str  # the document's own title, or "" (the indexer then uses the file name)
    parts: tuple[Part, ...]


# Suffix -> kind; the kind names the reader module.
KINDS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".md": "markdown", ".markdown": "markdown",
    ".txt": "text", ".text": "text", ".rst": "text", ".log": "text", ".csv": "text",
}

KIND_NAMES = {"pdf": "PDF", "docx": "Word", "html": "HTML", "markdown": "Markdown", "text": "text"}


def kind_of(path: Path) -> str | None:
    """The kind of document `path` is by its name, or None for a file the library does not read."""
    return KINDS.get(path.suffix.lower())


def reader_for(kind: str) -> Callable[[Path], Read]:
    # Imported on use: a library of text files never loads PDFium.
    if kind == "pdf":
        from core.docs.readers import pdf as module
    elif kind == "docx":
        from core.docs.readers import word as module
    elif kind == "html":
        from core.docs.readers import html as module
    elif kind == "markdown":
        from core.docs.readers import markdown as module
    else:
        from core.docs.readers import text as module
    return module.read
