"""gpt-oss's `browser` tool over the person's document library: what `browser.search`,
`browser.open` and `browser.find` answer, and what a citation in the answer points at.

Behaves as the reference browser does (openai/gpt-oss `gpt_oss/tools/simple_browser`), with the
library (core.docs) where the reference has a web search engine: every view is a page pushed on a
stack, and its index is the page's cursor; a view reads

    [3] Title (file:///path/report.pdf)
    **viewing lines [20 - 61] of 240**

    L20: ...

about 1,024 tokens of numbered lines, so the model can cite `【3†L24-L26】`. `search` shows ranked
hits as links `【id†title†file】`; `open` follows a link id of a page, or scrolls a page (by
cursor) to a line, or opens a library document by path; `find` lists exact matches on a
document's page, each a link to its line. Mistakes come back as the reference words them
("Invalid link id `7`."), as the tool's answer, never as an exception.

One `BrowserTool` per chat holds its pages: `call(name, arguments)` takes the JSON the model wrote
and returns the text to give it back; `resolve(cursor, first, last)` and `citations(text)` turn a
citation into the file and page (PDF) or line (text, Markdown) a window can open.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from core.docs import Document, Hit, Library, Origin
from core.docs.layout import wrap
from core.errors import HearthError

VIEW_TOKENS = 1024  # how much one view shows, as in the reference
MAX_SEARCH_RESULTS = 20  # the reference shows this many whatever `topn` asks; we honour a smaller topn
FIND_MAX_RESULTS = 50
FIND_SHOW_LINES = 4
SCROLL_CONTEXT = 4  # opening a link to line n shows from n - 4, as the reference does

CITATION = re.compile(r"【(?P<cursor>\d+)†L(?P<first>\d+)(?:-L(?P<last>\d+))?】")

Source = tuple[Path, int]  # a document and a line of its laid-out text


class ToolUsageError(Exception):
    """A call the tool cannot carry out; its text is the tool's answer to the model."""


@dataclass(frozen=True)
class Page:
    url: str
    title: str
    lines: tuple[str, ...]
    sources: tuple[Source | None, ...]  # per line: the document line it shows, for citations
    links: Mapping[int, Source] = field(default_factory=dict)  # link id -> where following it leads
    document: Path | None = None  # set on a document's own page (the only kind `find` searches)


@dataclass(frozen=True)
class Citation:
    """Where `【cursor†Lfirst-Llast】` points: the file, and the page or line to open it at."""

    cursor: int
    first: int
    last: int
    path: Path
    title: str
    page: int | None  # 1-based PDF page
    line: int | None  # 1-based line of the file (text, Markdown)
    last_line: int | None  # the file line of the last cited line
    section: str | None
    # The cited lines of the document as the browser lays it out (the L numbers `open` shows on its
    # own page): where a viewer of that text highlights, whatever the format (Word and HTML have no
    # file lines). None where the document could not be read again.
    document_first: int | None = None
    document_last: int | None = None

    @property
    def url(self) -> str:
        """A file URL; for a PDF with `#page=N`, which PDF viewers open at that page."""
        return self.path.as_uri() + (f"#page={self.page}" if self.page else "")


@dataclass(frozen=True)
class CitationMark:
    """A citation as written in an answer: its cursor and lines, and where it stands in the text."""

    cursor: int
    first: int
    last: int
    start: int
    end: int


def find_citations(text: str) -> list[CitationMark]:
    marks = []
    for m in CITATION.finditer(text):
        first = int(m["first"])
        marks.append(CitationMark(int(m["cursor"]), first, int(m["last"] or first), m.start(), m.end()))
    return marks


class BrowserTool:
    """The browser of one chat. `count_tokens` sizes a view (default: gpt-oss's tokenizer, from the
    vocabulary Hearth ships, loaded on first use)."""

    name = "browser"

    def __init__(self, library: Library, *, count_tokens: Callable[[str], int] | None = None,
                 view_tokens: int = VIEW_TOKENS, max_search_results: int = MAX_SEARCH_RESULTS):
        self.library = library
        self.view_tokens = view_tokens
        self.max_search_results = max_search_results
        self.pages: list[Page] = []  # the stack; a page's index is its cursor
        self._count_tokens = count_tokens
        self._documents: dict[Path, Document] = {}  # as the model saw them, for citations

    # -- the model's calls ----------------------------------------------------------------------

    def call(self, name: str, arguments: str) -> str:
        """Runs `browser.search`, `browser.open` or `browser.find` (`name` with or without the
        `browser.` prefix) with the JSON text the model wrote; returns the text to answer it with."""
        function = name.removeprefix(f"{self.name}.")
        if function not in ("search", "open", "find"):
            return json.dumps({"error": f"Unknown function: {function}"})
        try:
            args = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            args = None
        if not isinstance(args, dict):
            return json.dumps({"error": "Invalid function arguments"})
        try:
            if function == "search":
                if "query" not in args:
                    raise ToolUsageError("`search` needs a `query`.")
                return self.search(str(args["query"]), topn=_int(args.get("topn", args.get("top_n")), "topn", 10))
            if function == "open":
                link = args.get("id", -1)
                if not isinstance(link, str) or link.strip().isdigit():  # a link id, even written "3"
                    link = _int(link, "id", -1)
                return self.open(link, cursor=_int(args.get("cursor"), "cursor", -1),
                                 loc=_int(args.get("loc"), "loc", -1),
                                 num_lines=_int(args.get("num_lines"), "num_lines", -1))
            if "pattern" not in args:
                raise ToolUsageError("`find` needs a `pattern`.")
            return self.find(str(args["pattern"]), cursor=_int(args.get("cursor"), "cursor", -1))
        except ToolUsageError as error:
            return str(error)

    def search(self, query: str, topn: int = 10) -> str:
        try:
            if self.library.is_empty():
                raise ToolUsageError("The document library is empty: no folders have been added to it yet.")
            hits = self.library.search(query, limit=max(1, min(topn, self.max_search_results)))
        except HearthError as error:
            raise ToolUsageError(f"Error during search for `{query}`: {error}") from error
        self.pages.append(_search_page(query, hits))
        return self._show_safely(0, -1)

    def open(self, id: int | str = -1, cursor: int = -1, loc: int = -1, num_lines: int = -1) -> str:
        target: Source | None
        if isinstance(id, str):  # a path or file URL of a library document: read it afresh
            page, target = self._document_page(id, refresh=True), None
        else:
            current = self._page(cursor)
            if id >= 0:
                if id not in current.links:
                    raise ToolUsageError(f"Invalid link id `{id}`.")
                target = current.links[id]
                page = self._document_page(target[0], refresh=False)
            else:  # scroll the page at `cursor`
                page, target = current, None
        self.pages.append(page)
        if loc < 0:
            loc = target[1] if target is not None else 0
            if loc > SCROLL_CONTEXT:
                loc -= SCROLL_CONTEXT
        return self._show_safely(loc, num_lines)

    def find(self, pattern: str, cursor: int = -1) -> str:
        page = self._page(cursor)
        if page.document is None:
            raise ToolUsageError("Cannot run `find` on search results page or find results page")
        self.pages.append(_find_page(pattern.lower(), page))
        return self._show_safely(0, -1)

    # -- citations ------------------------------------------------------------------------------

    def resolve(self, cursor: int, first: int, last: int | None = None) -> Citation | None:
        """The file and place that `【cursor†Lfirst-Llast】` cites, or None when this chat has no such
        page or line (the model made it up)."""
        last = first if last is None else last
        if not 0 <= cursor < len(self.pages):
            return None
        page = self.pages[cursor]
        cited = [s for s in page.sources[max(first, 0):last + 1] if s is not None]
        if not cited:
            return None
        path = cited[0][0]
        last_index = cited[-1][1] if cited[-1][0] == path else cited[0][1]
        try:
            document = self._documents.get(path) or self.library.document(path)
        except HearthError:  # gone from the library since: the file is still what was cited
            return Citation(cursor, first, last, path, path.name, None, None, None, None, cited[0][1], last_index)
        start, end = _origin(document, cited[0][1]), _origin(document, last_index)
        return Citation(cursor, first, last, path, document.title, start.page, start.line,
                        end.line if end.line is not None else start.line, start.section, cited[0][1], last_index)

    def citations(self, text: str) -> list[tuple[CitationMark, Citation | None]]:
        """Every citation in an answer, with where it points (None where it points nowhere)."""
        return [(m, self.resolve(m.cursor, m.first, m.last)) for m in find_citations(text)]

    # -- pages ----------------------------------------------------------------------------------

    def _page(self, cursor: int) -> Page:
        if not self.pages:
            raise ToolUsageError("No pages to access!")
        if cursor == -1:
            return self.pages[-1]
        if not 0 <= cursor < len(self.pages):
            raise ToolUsageError(f"Cursor `{cursor}` is out of range. "
                                 f"Available cursor indices: [0 - {len(self.pages) - 1}].")
        return self.pages[cursor]

    def _document_page(self, path: Path | str, *, refresh: bool) -> Page:
        document = None if refresh else self._documents.get(Path(path))
        if document is None:
            try:
                document = self.library.document(path)
            except HearthError as error:
                raise ToolUsageError(f"Error fetching URL `{path}`: {error}") from error
            self._documents[document.path] = document
        return Page(document.url, document.title, tuple(line.text for line in document.lines),
                    tuple((document.path, i) for i in range(len(document.lines))), document=document.path)

    def _show_safely(self, loc: int, num_lines: int) -> str:
        try:
            return self._show(loc, num_lines)
        except ToolUsageError:
            self.pages.pop()
            raise

    def _show(self, loc: int, num_lines: int) -> str:
        page, cursor = self.pages[-1], len(self.pages) - 1
        total = len(page.lines)
        if loc >= total:
            raise ToolUsageError(f"Invalid location parameter: `{loc}`. Cannot exceed page maximum of {total - 1}.")
        end = min(loc + num_lines, total) if num_lines > 0 else self._end_of_view(page.lines, loc)
        body = "\n".join(f"L{i}: {page.lines[i]}" for i in range(loc, end))
        header = page.title + (f" ({page.url})" if page.url else "")
        return f"[{cursor}] {header}\n**viewing lines [{loc} - {end - 1}] of {total - 1}**\n\n{body}"

    def _end_of_view(self, lines: tuple[str, ...], loc: int) -> int:
        """The end of a view from `loc` of about `view_tokens` tokens, the line where the budget runs
        out included (as the reference rounds up)."""
        numbered = [f"L{i}: {lines[i]}\n" for i in range(loc, len(lines))]
        if sum(map(len, numbered)) <= self.view_tokens:  # at least one character per token: all fits
            return len(lines)
        count = self._tokens()
        used = 0
        for k, line in enumerate(numbered):
            used += count(line)
            if used >= self.view_tokens:
                return loc + k + 1
        return len(lines)

    def _tokens(self) -> Callable[[str], int]:
        if self._count_tokens is None:
            from core.chat.tokenizer import load_tokenizer, shipped_vocabulary

            tokenizer = load_tokenizer(shipped_vocabulary())
            self._count_tokens = lambda text: len(tokenizer.encode(text))
        return self._count_tokens


def _search_page(query: str, hits: list[Hit]) -> Page:
    lines: list[str] = ["# Search Results", ""]
    sources: list[Source | None] = [None, None]
    links: dict[int, Source] = {}
    for i, hit in enumerate(hits):
        links[i] = (hit.path, hit.line)
        where = f"page {hit.page}: " if hit.page else ""
        # As the reference writes a link: the text, then where it leads when that is not the text.
        label = _plain(hit.title) + ("" if hit.title == hit.name else f"†{_plain(hit.name)}")
        for piece in wrap(f"  * 【{i}†{label}】 {where}{_plain(hit.snippet)}"):
            lines.append(piece)
            sources.append((hit.path, hit.line))
    if not hits:
        lines.append(f"No documents match `{query}`.")
        sources.append(None)
    return Page("", query, tuple(lines), tuple(sources), links)


def _find_page(pattern: str, page: Page) -> Page:
    lines: list[str] = []
    sources: list[Source | None] = []
    links: dict[int, Source] = {}
    i = 0
    while i < len(page.lines) and len(links) < FIND_MAX_RESULTS:
        if pattern not in page.lines[i].lower():
            i += 1
            continue
        if links:
            lines.append("")
            sources.append(None)
        links[len(links)] = page.sources[i] or (page.document, i)
        lines.append(f"# 【{len(links) - 1}†match at L{i}】")
        sources.append(page.sources[i])
        for k in range(i, min(i + FIND_SHOW_LINES, len(page.lines))):
            for piece in wrap(page.lines[k]):
                lines.append(piece)
                sources.append(page.sources[k])
        i += FIND_SHOW_LINES
    if not links:
        lines, sources = [f"No `find` results for pattern: `{pattern}`"], [None]
    return Page(f"{page.url}/find?pattern={quote(pattern)}", f"Find results for text: `{pattern}` in `{page.title}`",
                tuple(lines), tuple(sources), links)


def _plain(text: str) -> str:
    # The link marks belong to the tool: a title or snippet must not open or close one.
    return text.replace("【", "〖").replace("】", "〗").replace("†", "‡")


def _origin(document: Document, line: int) -> Origin:
    return document.lines[line].origin if 0 <= line < len(document.lines) else Origin()


def _int(value: Any, name: str, default: int) -> int:
    """An argument the schema types as a number, as the model wrote it (3, 3.0 or "3")."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise ToolUsageError(f"`{name}` should be an integer, not `bool`")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ToolUsageError(f"`{name}` should be an integer, not `{type(value).__name__}`")
