"""What the document viewer shows for a citation (desktop/widgets/document_viewer.py): the cited
document's text as the chat's browser showed it to the model (the library's laid-out lines,
core.docs), and which of those lines the citation names. A document no longer in the library is
read from the file itself, laid out the same way.

A file that is not where the answer found it, or cannot be read, raises `CitedFileProblem`,
whose text is a sentence for the person.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.chat.browser_tool import Citation
from core.docs import Library, Line
from core.docs.errors import Unreadable
from core.docs.layout import document_lines
from core.docs.readers import KIND_NAMES, kind_of, reader_for
from core.errors import HearthError, why_unreadable


class CitedFileProblem(Exception):
    """The cited file cannot be shown; the text says why in a sentence."""


@dataclass(frozen=True)
class CitedText:
    lines: tuple[str, ...]  # the document's lines as the browser showed them (its URL line left out)
    first: int | None  # the first and last cited line of `lines`; None where the place is not found
    last: int | None


def cited_text(citation: Citation, library: Library | None) -> CitedText:
    """The cited document's lines and where the citation falls in them."""
    path = citation.path
    if not path.is_file():
        raise CitedFileProblem(missing_sentence(path))
    lines = _lines(path, library)
    skip = 1 if lines and lines[0].marker and lines[0].text.startswith("URL: ") else 0
    place = cited_lines(citation, lines)
    first, last = (place[0] - skip, place[1] - skip) if place is not None and place[0] >= skip else (None, None)
    return CitedText(tuple(line.text for line in lines[skip:]), first, last)


def missing_sentence(path: Path) -> str:
    return (f"“{path.name}” is no longer in {path.parent}. It may have been moved, renamed or deleted since "
            "the answer cited it.")


def cited_lines(citation: Citation, lines: tuple[Line, ...]) -> tuple[int, int] | None:
    """The first and last index of `lines` the citation names: by the file's own lines where it has
    them (text, Markdown), else by the lines the browser showed, else the start of its PDF page."""
    if citation.line is not None:
        wanted = range(citation.line, (citation.last_line or citation.line) + 1)
        found = [i for i, line in enumerate(lines) if line.origin.line in wanted and not line.marker]
        if found:
            return found[0], found[-1]
    if citation.document_first is not None and 0 <= citation.document_first < len(lines):
        last = citation.document_last if citation.document_last is not None else citation.document_first
        return citation.document_first, min(max(last, citation.document_first), len(lines) - 1)
    if citation.page is not None:
        found = [i for i, line in enumerate(lines) if line.origin.page == citation.page]
        if found:
            return found[0], found[0]
    return None


def _lines(path: Path, library: Library | None) -> tuple[Line, ...]:
    if library is not None:
        try:
            return library.document(path).lines
        except HearthError:  # not in the library (any more), or the library cannot be read: the file itself
            pass
    kind = kind_of(path)
    if kind is None:
        raise CitedFileProblem(f"Hearth cannot show “{path.name}”: it is not a kind of document Hearth reads.")
    try:
        read = reader_for(kind)(path)
    except Unreadable as error:
        raise CitedFileProblem(f"“{path.name}” could not be read: {error.reason}.") from error
    except OSError as error:
        raise CitedFileProblem(f"“{path.name}” could not be read: {why_unreadable(error)}.") from error
    except Exception as error:  # a format library's own error on a damaged file
        raise CitedFileProblem(f"“{path.name}” could not be read: it is damaged or not a real "
                               f"{KIND_NAMES[kind]} file.") from error
    return tuple(document_lines(path.as_uri(), read.parts))
