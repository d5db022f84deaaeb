"""The document viewer: a citation the real browser made opens at the cited lines, highlighted and
scrolled into view; "Open in default app" hands the file to the system (a PDF with its page); a
missing file is a sentence, never a traceback."""

from __future__ import annotations

import json

import pytest

from core.chat.browser_tool import BrowserTool, Citation
from core.docs import Library
from desktop.widgets.document_viewer import NOT_FOUND, DocumentViewer, show_citation
from tests.core.docs.documents import FACTS, make_library_folder


@pytest.fixture
def library(tmp_path):
    folder = tmp_path / "folder"
    paths = make_library_folder(folder)
    paths["long"] = folder / "ledger.txt"
    paths["long"].write_text("\n".join(f"Crate {i} is settled." for i in range(1, 401)) + "\n", encoding="utf-8")
    library = Library(tmp_path / "index")
    library.add(folder)
    return library, paths


def cite(library: Library, path, words: str, lines: int = 0) -> Citation:
    browser = BrowserTool(library, count_tokens=lambda text: 1)
    page = browser.call("browser.open", json.dumps({"id": str(path), "loc": 0, "num_lines": 1000}))
    line = next(int(row.split(":")[0][1:]) for row in page.split("\n") if words in row)
    return browser.resolve(0, line, line + lines)


def opened(qtbot, citation, library, urls=None) -> DocumentViewer:
    viewer = show_citation(citation, library, open_url=lambda url: (urls.append(url) if urls is not None else None)
                           or True)
    qtbot.addWidget(viewer)
    qtbot.waitExposed(viewer)
    return viewer


def test_the_cited_lines_are_highlighted_and_scrolled_into_view(qtbot, library):
    library, paths = library
    citation = cite(library, paths["long"], "Crate 300 is", lines=1)
    assert (citation.line, citation.last_line) == (300, 301)
    viewer = opened(qtbot, citation, library)
    assert viewer.windowTitle() == "ledger.txt, line 300"
    assert viewer.highlighted_lines() == ["Crate 300 is settled.", "Crate 301 is settled."]
    assert viewer.note.isHidden() and viewer.text.isReadOnly()
    qtbot.waitUntil(lambda: viewer.text.firstVisibleBlock().blockNumber() > 250)
    shown = viewer.text.cursorRect()
    assert viewer.text.textCursor().block().text() == "Crate 300 is settled."
    assert shown.top() >= 0 and shown.bottom() <= viewer.text.viewport().height()  # on screen, not just somewhere


@pytest.mark.parametrize("kind", ["docx", "html", "markdown"])
def test_word_html_and_markdown_open_at_the_cited_line(qtbot, library, kind):
    library, paths = library
    fact = FACTS[kind][0]
    viewer = opened(qtbot, cite(library, paths[kind], fact[:30]), library)
    assert viewer.highlighted_lines() == [fact]


def test_a_pdf_shows_its_cited_page_and_opens_in_the_default_app_at_that_page(qtbot, library):
    library, paths = library
    urls: list[str] = []
    citation = cite(library, paths["pdf"], "harbour gate")
    viewer = opened(qtbot, citation, library, urls)
    assert viewer.windowTitle() == "harbour.pdf, page 2" and viewer.highlighted_lines() == [FACTS["pdf"][0]]
    assert "[page 2]" in viewer.text.toPlainText()
    viewer.open_button.click()
    assert urls == [paths["pdf"].as_uri() + "#page=2"]


def test_a_missing_file_is_a_sentence_and_nothing_to_open(qtbot, library):
    library, paths = library
    citation = cite(library, paths["markdown"], "vault Kestrel")
    paths["markdown"].unlink()
    viewer = opened(qtbot, citation, library)
    assert viewer.note.text() == (f"“backups.md” is no longer in {paths['markdown'].parent}. It may have been moved, "
                                  "renamed or deleted since the answer cited it.")
    assert viewer.text.isHidden() and not viewer.open_button.isEnabled()


def test_a_file_that_goes_while_open_says_so_when_opened(qtbot, library):
    library, paths = library
    urls: list[str] = []
    viewer = opened(qtbot, cite(library, paths["text"], "fuse cabinet"), library, urls)
    paths["text"].unlink()
    viewer.open_button.click()
    assert urls == [] and "“keys.txt” is no longer in" in viewer.note.text() and viewer.note.isVisible()
    assert not viewer.open_button.isEnabled()


def test_cited_lines_no_longer_in_the_file_are_said(qtbot, library):
    library, paths = library
    citation = cite(library, paths["text"], "fuse cabinet")
    library.remove(paths["text"].parent)  # read from the file, which is shorter now
    paths["text"].write_text("Keys\n", encoding="utf-8")
    viewer = opened(qtbot, Citation(citation.cursor, citation.first, citation.last, citation.path, citation.title,
                                    None, 3, 3, None), library)
    assert viewer.note.text() == NOT_FOUND and viewer.highlighted_lines() == [] and viewer.text.isVisible()
