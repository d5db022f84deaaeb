"""The Documents page's widgets on their own: folder rows, indexing progress with file counts and
Cancel, the skipped files, the notice, and what the policy locks."""

from __future__ import annotations

from pathlib import Path

from core.docs import FolderInfo, IndexProgress, Skipped
from desktop.widgets.document_folder_row import DocumentFolderRow, folder_details
from desktop.widgets.documents_panel import MAX_PROBLEMS_SHOWN, DocumentsPanel
from desktop.widgets.indexing_progress import IndexingProgress, progress_text

REPORTS = FolderInfo(Path("/home/ana/Reports"), 12, 2, 1_700_000_000.0, True)
USB = FolderInfo(Path("/media/usb/Papers"), 3, 0, None, False)


def test_a_folder_row_says_what_the_folder_holds(qtbot):
    row = DocumentFolderRow(REPORTS)
    qtbot.addWidget(row)
    assert row.name.text() == "/home/ana/Reports"
    assert row.details.text().startswith("12 documents · 2 could not be read · indexed ")
    said = []
    row.remove_requested.connect(said.append)
    row.remove_button.click()
    assert said == ["/home/ana/Reports"]


def test_a_folder_not_there_and_not_indexed_to_the_end_says_so():
    text = folder_details(USB)
    assert text.startswith("3 documents · not indexed to the end yet")
    assert "not there now (a drive not connected?)" in text
    assert folder_details(FolderInfo(Path("/x"), 1, 0, 0.0, True)).startswith("1 document · indexed")


def test_progress_counts_files_and_cancel_asks_once(qtbot):
    progress = IndexingProgress()
    qtbot.addWidget(progress)
    progress.start("/home/ana/Reports")
    assert progress.label.text() == "Indexing /home/ana/Reports…" and progress.bar.maximum() == 0  # busy
    progress.show_progress(IndexProgress("reading", 3, 40, "2024/budget.pdf"))
    assert progress.label.text() == "Reading 4 of 40: 2024/budget.pdf"
    assert (progress.bar.value(), progress.bar.maximum()) == (3, 40) and progress.bar.text() == "3 of 40"
    asked = []
    progress.cancel_requested.connect(lambda: asked.append(True))
    progress.cancel_button.click()
    assert asked == [True] and not progress.cancel_button.isEnabled()
    assert progress.cancel_button.text() == "Cancelling…"
    assert progress_text(IndexProgress("scanning", 0, 0)) == "Looking for documents…"
    assert progress_text(IndexProgress("done", 40, 40)) == "Read 40 documents."


def test_the_panel_lists_folders_replacing_not_duplicating(qtbot):
    panel = DocumentsPanel()
    qtbot.addWidget(panel)
    assert panel.empty.isVisibleTo(panel) and not panel.add_button.isEnabled()  # the library is not open yet
    panel.set_usable(True)
    panel.set_folders([REPORTS, USB])
    assert list(panel.rows) == ["/home/ana/Reports", "/media/usb/Papers"] and not panel.empty.isVisibleTo(panel)
    panel.set_folders([USB])
    assert list(panel.rows) == ["/media/usb/Papers"]
    removed = []
    panel.remove_requested.connect(removed.append)
    panel.rows["/media/usb/Papers"].remove_button.click()
    assert removed == ["/media/usb/Papers"]


def test_while_indexing_only_cancel_is_offered(qtbot):
    panel = DocumentsPanel()
    qtbot.addWidget(panel)
    panel.set_usable(True)
    panel.set_folders([REPORTS])
    panel.start_indexing("/home/ana/Reports")
    assert panel.progress.isVisibleTo(panel) and panel.progress.cancel_button.isEnabled()
    assert not panel.add_button.isEnabled() and not panel.update_button.isEnabled()
    assert not panel.rows["/home/ana/Reports"].remove_button.isEnabled()
    panel.end_indexing()
    panel.set_result(["/home/ana/Reports: 12 documents in the library (12 new)."])
    assert not panel.progress.isVisibleTo(panel) and panel.add_button.isEnabled()
    assert panel.result.text() == "/home/ana/Reports: 12 documents in the library (12 new)."


def test_skipped_files_are_listed_with_their_sentences(qtbot):
    panel = DocumentsPanel()
    qtbot.addWidget(panel)
    assert not panel.problems_box.isVisibleTo(panel)
    broken = [Skipped(Path(f"/d/broken{i}.pdf"), "it is damaged or not a real PDF") for i in range(3)]
    panel.set_problems(broken)
    assert panel.problems_box.isVisibleTo(panel) and panel.problems_box.title().endswith("(3)")
    assert panel.problems_text.text().splitlines()[0] == "/d/broken0.pdf was skipped: it is damaged or not a real PDF."
    many = [Skipped(Path(f"/d/{i}.pdf"), "x") for i in range(MAX_PROBLEMS_SHOWN + 5)]
    panel.set_problems(many)
    assert panel.problems_text.text().splitlines()[-1] == "… and 5 more."


def test_the_policy_can_refuse_every_folder_and_mark_one_it_keeps_out(qtbot):
    panel = DocumentsPanel()
    qtbot.addWidget(panel)
    panel.set_usable(True)
    panel.set_policy_hint("Your organisation lets the library hold only folders inside /srv/docs.")
    panel.set_folders([REPORTS], {"/home/ana/Reports": "Your organisation's policy keeps this folder out."})
    assert panel.policy_hint.isVisibleTo(panel)
    row = panel.rows["/home/ana/Reports"]
    assert row.details.text().endswith("Your organisation's policy keeps this folder out.")
    assert row.remove_button.isEnabled()  # forgetting it is always allowed
    panel.lock_adding("Your organisation's policy lets no folder into the document library on this computer.")
    assert not panel.add_button.isEnabled() and panel.update_button.isEnabled()
    assert panel.add_button.toolTip().startswith("Your organisation's policy lets no folder")


def test_the_notice_says_why_the_library_cannot_search(qtbot):
    panel = DocumentsPanel()
    qtbot.addWidget(panel)
    assert not panel.notice.isVisibleTo(panel)
    panel.set_notice("The document library needs SQLite's full-text search (FTS5) …")
    assert panel.notice.isVisibleTo(panel) and "FTS5" in panel.notice.text()
