"""What the document viewer shows for a citation the real browser made over a real library: the
document's text as the model read it and the cited lines, for every format; a file gone from the
library read from the file itself; a missing or damaged file as a sentence."""

from __future__ import annotations

import json
import shutil

import pytest

from core.chat.browser_tool import BrowserTool
from core.docs import Library
from desktop.cited_document import CitedFileProblem, cited_text
from tests.core.docs.documents import FACTS, make_library_folder


@pytest.fixture
def library(tmp_path):
    paths = make_library_folder(tmp_path / "folder")
    library = Library(tmp_path / "index")
    library.add(tmp_path / "folder")
    return library, paths


def cite(library: Library, path, words: str):
    """The citation of the line holding `words`, as the model would make it after opening `path`."""
    browser = BrowserTool(library, count_tokens=lambda text: 1)
    page = browser.call("browser.open", json.dumps({"id": str(path)}))
    line = next(int(row.split(":")[0][1:]) for row in page.split("\n") if words in row)
    return browser.resolve(0, line)


@pytest.mark.parametrize("kind", ["pdf", "docx", "html", "markdown", "text"])
def test_the_cited_line_of_every_format_is_found_in_the_text_the_model_read(library, kind):
    library, paths = library
    fact = FACTS[kind][0]
    citation = cite(library, paths[kind], fact[:30])
    shown = cited_text(citation, library)
    assert shown.first == shown.last and fact in shown.lines[shown.first]
    assert not shown.lines[0].startswith("URL: ")  # the browser's URL line is the viewer's title
    without = cited_text(citation, None)  # no library: the file itself, laid out the same way
    assert without.lines == shown.lines and without.first == shown.first


def test_a_document_gone_from_the_library_is_read_from_the_file(library, tmp_path):
    library, paths = library
    citation = cite(library, paths["markdown"], "vault Kestrel")
    library.remove(tmp_path / "folder")
    shown = cited_text(citation, library)
    assert FACTS["markdown"][0] in shown.lines[shown.first]


def test_a_text_file_changed_since_is_shown_at_the_cited_file_line(library):
    library, paths = library
    citation = cite(library, paths["text"], "fuse cabinet")
    assert citation.line == 3
    paths["text"].write_text("Keys\n\n" + "x " * 100 + "\n", encoding="utf-8")  # line 3 now wraps over 3 lines
    shown = cited_text(citation, None)
    assert (shown.first, shown.last) == (2, 4) and shown.lines[2].startswith("x x")


def test_a_missing_or_damaged_file_is_a_sentence(library, tmp_path):
    library, paths = library
    citation = cite(library, paths["docx"], "building nine")
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.move(paths["docx"], moved / "handbook.docx")
    with pytest.raises(CitedFileProblem) as missing:
        cited_text(citation, library)
    assert str(missing.value) == (f"“handbook.docx” is no longer in {paths['docx'].parent}. It may have been moved, "
                                  "renamed or deleted since the answer cited it.")
    paths["docx"].write_bytes(b"not a zip at all")
    with pytest.raises(CitedFileProblem) as damaged:
        cited_text(citation, None)
    assert str(damaged.value) == "“handbook.docx” could not be read: it is damaged or not a real Word (.docx) file."
