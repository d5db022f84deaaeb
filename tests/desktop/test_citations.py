"""The model's citations as links in the answer shown, which say which citation was clicked (the
window opens it in the document viewer, tests/desktop/test_document_viewer.py); the text itself
(copies, exports) keeps them as written."""

from __future__ import annotations

from pathlib import Path

from core.chat.browser_tool import Citation
from desktop.citations import SCHEME, citation_at, citation_label, link_citations
from desktop.widgets.markdown_view import MarkdownView

REPORT = Citation(3, 24, 26, Path("/home/ana/Reports/report.pdf"), "Report", 7, None, None, None)
NOTES = Citation(5, 2, 2, Path("/home/ana/Reports/notes_[draft].md"), "Notes", None, 12, 12, None)


def resolver(cursor, first, last):
    return {3: REPORT, 5: NOTES}.get(cursor)


def test_citations_the_browser_knows_become_links_and_others_stay():
    text = "Serviced in March 【3†L24-L26】, see also 【5†L2】 and 【9†L1】."
    linked, citations = link_citations(text, resolver)
    assert citations == [REPORT, NOTES]
    assert linked == (f"Serviced in March [【report.pdf, page 7】]({SCHEME}:0), see also "
                      f"[【notes\\_\\[draft\\].md, line 12】]({SCHEME}:1) and 【9†L1】.")
    assert link_citations(text, None) == (text, [])
    assert citation_label(Citation(0, 1, 1, Path("/a.txt"), "a", None, None, None, None)) == "a.txt"
    assert citation_at(f"{SCHEME}:1", citations) is NOTES
    assert citation_at(f"{SCHEME}:7", citations) is None and citation_at("https://example.com", citations) is None
    assert REPORT.url == "file:///home/ana/Reports/report.pdf#page=7"


def test_a_citation_link_says_which_citation_was_clicked(qtbot):
    view = MarkdownView("The boiler is serviced every March 【3†L24-L26】.\n\n```\ncode 【3†L24】\n```")
    qtbot.addWidget(view)
    clicked = []
    view.citation_activated.connect(clicked.append)
    label = view.prose_labels()[0]
    assert "【3†L24-L26】" in label.text() and not label.citations  # no browser: as written
    view.set_citation_resolver(resolver)
    assert label.citations == [REPORT] and "【report.pdf, page 7】" in label.text()
    assert view.code_blocks()[0].code() == "code 【3†L24】"  # code is never rewritten
    assert view.text().endswith("```")  # the text itself is what the model wrote
    label.linkActivated.emit(f"{SCHEME}:0")
    label.linkActivated.emit("https://example.com")  # any other link is shown, never opened
    assert clicked == [REPORT]
    view.set_text("The boiler is serviced every March 【3†L24-L26】. More.")  # streaming keeps the links
    assert view.prose_labels()[0].citations == [REPORT]
    view.set_citation_resolver(None)
    assert not view.prose_labels()[0].citations and "【3†L24-L26】" in view.prose_labels()[0].text()
