"""Finding passages: words through the bm25-ranked word index, Chinese and Japanese through the
trigram index, the two rankings merged by reciprocal rank.

Words are letters and digits as SQLite's unicode61 tokenizer splits them (case and accents
ignored). Chinese and Japanese are written without spaces, so a run of those characters is
searched by its three-character pieces (a chunk holding the whole run has every piece and ranks
first); a run of one or two characters, which no trigram can hold, by a plain substring scan.
A word that matches no whole word is tried as a substring too ("config" finds "configuration").
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CANDIDATES = 200  # passages taken from each ranking before merging
PER_FILE = 3  # hits one document may take, so one long manual does not fill the page
RRF_K = 60  # reciprocal-rank fusion's usual constant
SNIPPET_CHARS = 200

_CJK = "\u3005\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\uac00-\ud7af"
_RUNS = re.compile(rf"[{_CJK}]+|[^\W{_CJK}]+")


@dataclass(frozen=True)
class Hit:
    path: Path
    folder: Path  # the library folder it belongs to
    title: str
    kind: str
    line: int  # the line of the laid-out document (core.docs.layout) where the match is
    page: int | None
    section: str | None
    snippet: str

    @property
    def name(self) -> str:
        """The file, relative to its library folder: what a person recognises."""
        try:
            return self.path.relative_to(self.folder).as_posix()
        except ValueError:
            return self.path.name


@dataclass(frozen=True)
class Terms:
    words: tuple[str, ...]  # letters and digits, lower case
    grams: tuple[str, ...]  # Chinese and Japanese runs of three or more characters
    short: tuple[str, ...]  # such runs of one or two characters

    @property
    def all(self) -> tuple[str, ...]:
        return self.words + self.grams + self.short


def terms(query: str) -> Terms:
    words, grams, short = [], [], []
    for run in _RUNS.findall(query.lower()):
        if re.match(rf"[{_CJK}]", run):
            (grams if len(run) >= 3 else short).append(run)
        elif run.strip("_"):
            words.append(run)
    return Terms(*(tuple(dict.fromkeys(t)) for t in (words, grams, short)))


def search(conn: sqlite3.Connection, query: str, limit: int, *, trigram: bool,
           folders: Callable[[str], bool] | None = None) -> list[Hit]:
    """The best `limit` passages for `query`; `folders` keeps only documents of the library folders it
    accepts (the organisation's policy)."""
    t = terms(query)
    word_ids = _match(conn, "chunks_words", " OR ".join(_quoted(w) for w in t.words)) if t.words else []
    rankings = [word_ids]
    grams = [g[i:i + 3] for g in t.grams for i in range(len(g) - 2)]
    scan = list(t.short) + ([] if trigram else list(t.grams))
    if trigram and grams:
        rankings.append(_match(conn, "chunks_trigram", " OR ".join(_quoted(g) for g in dict.fromkeys(grams))))
    if scan:
        rankings.append(_scan(conn, scan))
    if t.words and not word_ids:
        long_words = [w for w in t.words if len(w) >= 3]
        if trigram and long_words:
            rankings.append(_match(conn, "chunks_trigram", " OR ".join(_quoted(w) for w in long_words)))
        elif long_words:
            rankings.append(_scan(conn, long_words))
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    return _hits(conn, sorted(scores, key=lambda c: -scores[c]), t.all, limit, folders)


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _match(conn: sqlite3.Connection, table: str, expression: str) -> list[int]:
    return [row[0] for row in conn.execute(
        f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rank LIMIT ?", (expression, CANDIDATES))]


def _scan(conn: sqlite3.Connection, needles: list[str]) -> list[int]:
    # Substrings too short for a trigram: a scan, ranked by how many of them a chunk holds.
    held = " + ".join("(instr(lower(text), ?) > 0)" for _ in needles)
    like = " OR ".join("text LIKE ? ESCAPE '\\'" for _ in needles)
    patterns = ["%" + n.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for n in needles]
    return [row[0] for row in conn.execute(
        f"SELECT id FROM chunks WHERE {like} ORDER BY {held} DESC, length(text) LIMIT ?",
        (*patterns, *needles, CANDIDATES))]


def _hits(conn: sqlite3.Connection, ranked: list[int], needles: tuple[str, ...], limit: int,
          folders: Callable[[str], bool] | None = None) -> list[Hit]:
    hits: list[Hit] = []
    per_file: dict[int, int] = {}
    for start in range(0, len(ranked), 100):
        ids = ranked[start:start + 100]
        rows = {row["id"]: row for row in conn.execute(
            "SELECT chunks.id, file_id, first_line, page, section, view, path, folder, title, kind FROM chunks "
            f"JOIN files ON files.id = chunks.file_id WHERE chunks.id IN ({','.join('?' * len(ids))})", ids)}
        for chunk_id in ids:
            row = rows.get(chunk_id)
            if row is None or per_file.get(row["file_id"], 0) >= PER_FILE:
                continue
            if folders is not None and not folders(row["folder"]):
                continue
            per_file[row["file_id"]] = per_file.get(row["file_id"], 0) + 1
            offset, snippet = _snippet(row["view"].split("\n"), needles)
            hits.append(Hit(Path(row["path"]), Path(row["folder"]), row["title"], row["kind"],
                            row["first_line"] + offset, row["page"], row["section"], snippet))
            if len(hits) >= limit:
                return hits
    return hits


def _snippet(lines: list[str], needles: tuple[str, ...]) -> tuple[int, str]:
    """The line holding the most search terms (the first of equals; else the first line), with
    what follows it."""
    held = [sum(n in line.lower() for n in needles) for line in lines]
    first = held.index(max(held)) if held else 0
    text = " ".join(" ".join(lines[first:first + 3]).split())
    return first, text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS - 1].rstrip() + "…"
