"""The browser tool over a real document library: search -> open -> find with cursors, as the
model calls it (JSON in, text out), the reference's error texts, view sizes, and citations
resolved back to the file and its page or line."""

from __future__ import annotations

import json

import pytest

from core.chat.browser_tool import BrowserTool, find_citations
from core.docs import Library
from tests.core.docs.documents import make_library_folder


def one_token_per_line(text: str) -> int:
    return 1


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    paths = make_library_folder(root / "folder")
    long = root / "folder" / "long.txt"
    long.write_text("\n".join(f"Line {i}: the ledger entry for crate {i} is settled." for i in range(1, 401)))
    library = Library(root / "index")
    library.add(root / "folder")
    return library, {**paths, "long": long}


@pytest.fixture
def tool(library):
    return BrowserTool(library[0], count_tokens=lambda text: len(text) // 4)


def test_search_open_find_and_cite(tool, library):
    paths = library[1]
    uri = paths["text"].as_uri()
    found = tool.call("browser.search", json.dumps({"query": "fuse cabinet"}))
    assert found.startswith("[0] fuse cabinet\n**viewing lines [0 - ")
    assert "L0: # Search Results\nL1: \nL2:   * 【0†keys.txt】 The spare key hangs inside the fuse cabinet." in found

    opened = tool.call("browser.open", json.dumps({"id": 0}))
    # At the hit's line, as the reference opens a link (4 lines before it, once it is past line 4).
    assert opened == (f"[1] keys.txt ({uri})\n**viewing lines [3 - 4] of 4**\n\n"
                      f"L3: The spare key hangs inside the fuse cabinet.\nL4: ")

    matches = tool.call("browser.find", json.dumps({"pattern": "Fuse"}))
    assert matches == (f"[2] Find results for text: `fuse` in `keys.txt` ({uri}/find?pattern=fuse)\n"
                       f"**viewing lines [0 - 2] of 2**\n\n"
                       f"L0: # 【0†match at L3】\nL1: The spare key hangs inside the fuse cabinet.\nL2: ")

    scrolled = tool.call("browser.open", json.dumps({"cursor": 1, "loc": 2, "num_lines": 2}))
    assert scrolled.startswith(f"[3] keys.txt ({uri})\n**viewing lines [2 - 3] of 4**\n\nL2: \nL3: The spare")

    followed = tool.call("browser.open", json.dumps({"cursor": 2, "id": 0}))
    assert followed.startswith("[4] keys.txt") and "\n\nL3: The spare key" in followed  # from the match's line

    answer = "It hangs in the fuse cabinet 【1†L3】, as the search said 【0†L2】 and find showed 【2†L1】."
    cited = tool.citations(answer)
    assert [(m.cursor, m.first, m.last) for m, _ in cited] == [(1, 3, 3), (0, 2, 2), (2, 1, 1)]
    for mark, citation in cited:
        assert answer[mark.start:mark.end].startswith("【")
        assert (citation.path, citation.line, citation.page) == (paths["text"], 3, None)
    assert tool.resolve(1, 3).url == uri


def test_a_pdf_citation_names_its_page(tool, library):
    paths = library[1]
    tool.call("browser.search", '{"query": "harbour gate closes"}')
    opened = tool.call("browser.open", '{"id": 0}')
    line = next(int(row.split(":")[0][1:]) for row in opened.split("\n") if "harbour gate closes" in row)
    citation = tool.resolve(1, line)
    assert (citation.path, citation.page, citation.line) == (paths["pdf"], 2, None)
    assert citation.url == paths["pdf"].as_uri() + "#page=2"
    assert "[page 2]" in opened


def test_a_markdown_citation_names_the_source_lines_and_section(tool, library):
    paths = library[1]
    tool.call("browser.open", json.dumps({"id": str(paths["markdown"])}))  # by path: a library document
    citation = tool.resolve(0, 7, 8)
    source = paths["markdown"].read_text().split("\n")
    assert source[citation.line - 1].startswith("The backup tapes rotate")
    assert (citation.last_line, citation.section, citation.title) == (8, "Tapes", "Backups")
    assert (citation.document_first, citation.document_last) == (7, 8)  # the page's own L numbers
    searched = tool.call("browser.search", '{"query": "backup tapes rotate"}')
    hit = next(int(row.split(":")[0][1:]) for row in searched.split("\n") if "Backups" in row)
    via_search = tool.resolve(1, hit)  # a search result's line cites the document line it found
    assert via_search.path == paths["markdown"] and via_search.document_first is not None
    assert tool.library.document(paths["markdown"]).lines[via_search.document_first].origin.line == via_search.line


def test_citations_that_point_nowhere_resolve_to_none(tool):
    tool.call("browser.search", '{"query": "fuse"}')
    assert tool.resolve(5, 1) is None  # no such cursor
    assert tool.resolve(0, 999) is None  # no such line
    assert tool.resolve(0, 0) is None  # the page's own heading cites no document


def test_find_citations_reads_both_forms():
    marks = find_citations("a 【6†L9-L11】 b 【8†L3】 c 【x†L1】 【7†Chapter】")
    assert [(m.cursor, m.first, m.last) for m in marks] == [(6, 9, 11), (8, 3, 3)]


def test_a_view_is_about_1024_tokens_of_the_real_tokenizer(library):
    tool = BrowserTool(library[0])  # the tokenizer Hearth ships
    text = tool.open(str(library[1]["long"]))
    assert text.startswith("[0] long.txt") and "**viewing lines [0 - " in text
    shown = int(text.split("**viewing lines [0 - ")[1].split("]")[0]) + 1
    body = "\n".join(text.split("\n")[3:]) + "\n"
    tokens = tool._tokens()(body)
    assert 1000 <= tokens <= 1100 and 40 < shown < 400, (tokens, shown)


def test_num_lines_and_a_token_budget_size_the_view(library):
    tool = BrowserTool(library[0], count_tokens=one_token_per_line, view_tokens=10)
    assert "viewing lines [0 - 9] of 400" in tool.open(str(library[1]["long"]))
    assert "viewing lines [395 - 397] of 400" in tool.open(cursor=0, loc=395, num_lines=3)
    assert "viewing lines [391 - 400] of 400" in tool.open(cursor=0, loc=391)


def test_mistakes_are_answered_in_the_reference_words(tool, library):
    assert tool.call("browser.open", '{"id": 1}') == "No pages to access!"
    tool.call("browser.search", '{"query": "fuse"}')
    assert tool.call("browser.open", '{"id": 9}') == "Invalid link id `9`."
    assert tool.call("browser.open", '{"cursor": 4}') == ("Cursor `4` is out of range. "
                                                         "Available cursor indices: [0 - 0].")
    assert tool.call("browser.find", '{"pattern": "x"}') == (
        "Cannot run `find` on search results page or find results page")
    assert tool.call("browser.open", '{"loc": 500}') == (
        "Invalid location parameter: `500`. Cannot exceed page maximum of 2.")
    assert len(tool.pages) == 1  # a failed view leaves no page behind
    assert tool.call("browser.open", '{"cursor": "one"}') == "`cursor` should be an integer, not `str`"
    assert tool.call("browser.search", "{not json") == '{"error": "Invalid function arguments"}'
    assert tool.call("browser.fetch", "{}") == '{"error": "Unknown function: fetch"}'
    assert tool.call("browser.search", "{}") == "`search` needs a `query`."


def test_files_outside_the_library_cannot_be_opened(tool, tmp_path):
    outside = tmp_path / "passwords.txt"
    outside.write_text("hunter2")
    answer = tool.call("browser.open", json.dumps({"id": str(outside)}))
    assert answer.startswith(f"Error fetching URL `{outside}`: ") and "not a document of the library" in answer
    assert tool.pages == []


def test_lenient_arguments_as_models_write_them(tool):
    tool.call("browser.search", '{"query": "fuse cabinet", "topn": 5.0, "source": "web"}')
    assert tool.call("browser.open", '{"id": "0", "view_source": false}').startswith("[1] keys.txt")
    assert tool.call("browser.find", '{"pattern": "nowhere to be seen", "cursor": 1}').endswith(
        "L0: No `find` results for pattern: `nowhere to be seen`")


def test_no_match_and_an_empty_library(tool, tmp_path):
    assert tool.search("zeppelin").endswith("L2: No documents match `zeppelin`.")
    empty = BrowserTool(Library(tmp_path / "empty"), count_tokens=len)
    assert empty.call("browser.search", '{"query": "x"}') == (
        "The document library is empty: no folders have been added to it yet.")


def test_topn_limits_the_hits(tool):
    page = tool.search("the", topn=2)
    assert "【1†" in page and "【2†" not in page
