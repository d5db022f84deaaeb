"""The model's citations (`【3†L24-L26】`, as gpt-oss's browser taught it) as links in the answer
shown: each one a resolver knows becomes a link named after the file and its page or line, which
opens the document viewer there (desktop/widgets/document_viewer.py). The resolver is the chat's
browser for the answer being written, and what an answer keeps once written
(desktop/kept_citations.py). The answer's text itself keeps the citation as the model wrote it,
so copies read as the model wrote them.

A citation no resolver knows (the model made it up, or the answer is from before citations were
kept) stays as written.
"""

from __future__ import annotations

from collections.abc import Callable

from core.chat.browser_tool import Citation, find_citations

SCHEME = "hearth-citation"  # href of a citation link: hearth-citation:<index in the label's citations>

# (cursor, first line, last line) -> where the citation points, or None
Resolver = Callable[[int, int, int], Citation | None]


def citation_label(citation: Citation) -> str:
    """What the link reads: the file's name and the place, e.g. "report.pdf, page 3"."""
    where = (f", page {citation.page}" if citation.page else
             f", line {citation.line}" if citation.line else "")
    return f"{citation.path.name}{where}"


def _escape(text: str) -> str:
    for mark in "\\[]*_`<>":
        text = text.replace(mark, "\\" + mark)
    return text


def link_citations(markdown: str, resolve: Resolver | None) -> tuple[str, list[Citation]]:
    """`markdown` with each citation `resolve` knows replaced by a Markdown link, and those
    citations in order (the link `hearth-citation:i` is the i-th)."""
    if resolve is None or "【" not in markdown:
        return markdown, []
    pieces: list[str] = []
    citations: list[Citation] = []
    at = 0
    for mark in find_citations(markdown):
        citation = resolve(mark.cursor, mark.first, mark.last)
        if citation is None:
            continue
        pieces.append(markdown[at:mark.start])
        pieces.append(f"[【{_escape(citation_label(citation))}】]({SCHEME}:{len(citations)})")
        citations.append(citation)
        at = mark.end
    pieces.append(markdown[at:])
    return "".join(pieces), citations


def citation_at(href: str, citations: list[Citation]) -> Citation | None:
    """The citation a link of `link_citations` stands for; None for any other link."""
    scheme, _, index = href.partition(":")
    if scheme != SCHEME or not index.isdigit() or int(index) >= len(citations):
        return None
    return citations[int(index)]
