"""The citations of an answer as the history keeps them, so they still open their files after
Hearth restarts (the chat's browser, which knew what `【3†L24】` meant, lives only while Hearth runs).

Each time the answer being written is saved, the citations in it that the chat's browser can
resolve go into the answer's `stats["citations"]`: one JSON object each, with the citation as
written (cursor, first, last) and where it points (the file, its title, page, lines, section).
The answer's text stays as the model wrote it. Once written, an answer links its citations from
there only: the browser of a later run numbers its pages afresh, so it must not be asked about an
older answer's cursors.

`stats` is already a JSON object per answer (desktop/history.py), so no schema change is needed:
an older Hearth ignores the key, an answer from before it has none (its citations stay as
written), and fields a newer Hearth adds to a citation are skipped here and never rewritten.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.chat.browser_tool import Citation, find_citations
from desktop.citations import Resolver

KEY = "citations"
_NUMBERS = ("page", "line", "last_line", "document_first", "document_last")


def citation_to_dict(citation: Citation) -> dict[str, Any]:
    return {"cursor": citation.cursor, "first": citation.first, "last": citation.last,
            "path": str(citation.path), "title": citation.title, "page": citation.page, "line": citation.line,
            "last_line": citation.last_line, "section": citation.section,
            "document_first": citation.document_first, "document_last": citation.document_last}


def citation_from_dict(data: Any) -> Citation | None:
    """The citation a kept object stands for; None for one that is damaged."""
    if not isinstance(data, dict) or not isinstance(data.get("path"), str) or not data["path"]:
        return None
    if not all(_is_int(data.get(name)) for name in ("cursor", "first", "last")):
        return None
    numbers = {name: data.get(name) if _is_int(data.get(name)) else None for name in _NUMBERS}
    title = data.get("title") if isinstance(data.get("title"), str) else ""
    section = data.get("section") if isinstance(data.get("section"), str) else None
    path = Path(data["path"])
    return Citation(data["cursor"], data["first"], data["last"], path, title or path.name, numbers["page"],
                    numbers["line"], numbers["last_line"], section, numbers["document_first"],
                    numbers["document_last"])


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def with_citations(stats: dict, content: str, resolve: Resolver | None) -> dict:
    """`stats` with the citations of `content` that `resolve` knows (an empty list where it knows
    none: the answer's citations are then plain text for good). Unchanged for an answer that cites
    nothing."""
    marks = find_citations(content)
    if not marks:
        return stats
    kept: list[dict[str, Any]] = []
    seen: set[tuple[int, int, int]] = set()
    for mark in marks:
        written = (mark.cursor, mark.first, mark.last)
        citation = resolve(*written) if resolve is not None and written not in seen else None
        seen.add(written)
        if citation is not None:
            kept.append(citation_to_dict(citation))
    return {**stats, KEY: kept}


def kept_citations(stats: dict) -> list[Citation] | None:
    """The answer's kept citations; None for an answer that keeps none (written before they were
    kept, or citing nothing)."""
    kept = stats.get(KEY) if isinstance(stats, dict) else None
    if not isinstance(kept, list):
        return None
    return [c for c in map(citation_from_dict, kept) if c is not None]


def kept_resolver(stats: dict) -> Resolver | None:
    """Where the answer's citations point, from what it keeps; None where it keeps nothing."""
    citations = kept_citations(stats)
    if citations is None:
        return None
    by_mark = {(c.cursor, c.first, c.last): c for c in citations}
    return lambda cursor, first, last: by_mark.get((cursor, first, last))
