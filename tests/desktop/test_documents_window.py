"""The Documents page at work: a real library in a temp folder, indexed in the worker thread;
add a folder from the dialog (which remembers where), progress, Cancel, remove after asking,
skipped files, the page in the window's navigation, a library that cannot search, the policy."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from PySide6.QtWidgets import QFileDialog

from core.docs import Library
from core.system.policy import NO_POLICY, Policy
from desktop.documents_controller import DocumentsController
from desktop.widgets.documents_panel import DocumentsPanel
from desktop.workers.library_worker import LibraryWorker
from tests.desktop.helpers import wait_until


@pytest.fixture
def folder(tmp_path) -> Path:
    docs = tmp_path / "Reports"
    (docs / "2024").mkdir(parents=True)
    (docs / "notes.md").write_text("# Notes\n\nThe boiler is serviced every March.\n", encoding="utf-8")
    (docs / "2024" / "budget.txt").write_text("The budget for 2024 is 41,000 euros.\n", encoding="utf-8")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7 cut short")
    return docs


@pytest.fixture
def page(qtbot, tmp_path, settings):
    """The Documents page and its controller, on a library in the test's folder."""
    made = []

    def make(policy=NO_POLICY, confirm=lambda question, detail: True, worker=None):
        panel = DocumentsPanel()
        qtbot.addWidget(panel)
        controller = DocumentsController(panel, settings, policy, confirm, panel, tmp_path / "library", worker)
        made.append(controller)
        wait_until(qtbot, lambda: controller.library is not None or controller.unavailable)
        return panel, controller

    yield make
    for controller in made:
        controller.shutdown()


def test_adding_a_folder_indexes_it_and_lists_it_with_its_skipped_files(qtbot, page, folder, settings, monkeypatch):
    panel, controller = page()
    assert panel.add_button.isEnabled() and panel.empty.isVisibleTo(panel)
    opened_at = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda parent, caption, start: opened_at.append(start) or str(folder))
    changes = []
    controller.changed.connect(lambda: changes.append(True))
    panel.add_button.click()
    assert panel.is_indexing() and not panel.add_button.isEnabled()
    wait_until(qtbot, lambda: str(folder) in panel.rows and not panel.is_indexing())
    assert settings.documents_folder == str(folder.parent)  # the next dialog opens beside it
    assert panel.rows[str(folder)].details.text().startswith("2 documents · 1 could not be read")
    assert panel.result.text().splitlines()[0] == f"{folder}: 2 documents in the library (2 new)."
    assert "broken.pdf was skipped" not in panel.result.text()  # listed once, below
    assert panel.problems_text.text() == f"{folder / 'broken.pdf'} was skipped: it is damaged or not a real PDF."
    assert changes and [f.path for f in controller.folders] == [folder]
    assert controller.library.search("boiler")[0].path.name == "notes.md"
    # The dialog remembers: the next one opens in the folder holding the one added.
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda parent, caption, start: opened_at.append(start) or "")
    panel.add_button.click()
    assert opened_at[-1] == str(folder.parent) and not panel.is_indexing()


def test_cancel_stops_indexing_and_keeps_what_was_read(qtbot, page, folder):
    panel, controller = page()
    controller.add(str(folder))
    panel.progress.cancel_button.click()  # before the worker reaches the first file
    wait_until(qtbot, lambda: not panel.is_indexing())
    assert panel.result.text().startswith(f"Indexing {folder} was stopped after 0 of 3 documents")
    assert "updating the folder finishes the work" in panel.result.text()
    wait_until(qtbot, lambda: str(folder) in panel.rows)
    assert "not indexed to the end yet" in panel.rows[str(folder)].details.text()
    panel.update_button.click()  # finishes the work
    wait_until(qtbot, lambda: not panel.is_indexing() and "2 documents" in panel.rows[str(folder)].details.text())
    assert "not indexed to the end" not in panel.rows[str(folder)].details.text()


def test_removing_a_folder_asks_first(qtbot, page, folder):
    answers, asked = iter([False, True]), []
    panel, controller = page(confirm=lambda question, detail: asked.append((question, detail)) or next(answers))
    controller.add(str(folder))
    wait_until(qtbot, lambda: str(folder) in panel.rows and not panel.is_indexing())
    panel.rows[str(folder)].remove_button.click()
    assert asked[0] == (f"Remove {folder} from the library?",
                        "Hearth forgets its 2 documents, and chats can no longer search them. The files "
                        "themselves stay where they are.")
    qtbot.wait(100)
    assert str(folder) in panel.rows  # answered No
    panel.rows[str(folder)].remove_button.click()
    wait_until(qtbot, lambda: not panel.rows)
    assert panel.result.text().startswith(f"{folder} was removed from the library (2 documents forgotten)")
    assert (folder / "notes.md").exists() and not panel.problems_box.isVisibleTo(panel)


def test_a_folder_that_cannot_be_added_is_a_sentence(qtbot, page, tmp_path):
    panel, controller = page()
    problems = []
    controller.problem.connect(problems.append)
    controller.add(str(tmp_path / "gone"))
    wait_until(qtbot, lambda: problems)
    assert problems == [f"{tmp_path / 'gone'} could not be added to the library: it does not exist."]
    assert not panel.is_indexing() and panel.add_button.isEnabled()


def test_a_library_that_cannot_search_says_why_and_offers_nothing(qtbot, page, monkeypatch):
    monkeypatch.setattr("core.docs.database.search_support", lambda: (False, False))
    panel, controller = page()
    assert controller.library is None and "full-text search (FTS5)" in controller.unavailable
    assert panel.notice.isVisibleTo(panel) and panel.notice.text() == controller.unavailable
    assert not panel.add_button.isEnabled() and not panel.update_button.isEnabled()


def test_a_library_without_trigrams_says_so_and_still_works(qtbot, page, monkeypatch):
    monkeypatch.setattr("core.docs.database.search_support", lambda: (True, False))
    panel, controller = page()
    assert controller.library is not None and "no trigram index" in panel.notice.text()
    assert panel.add_button.isEnabled()


def test_the_policys_folders_limit_what_may_be_added(qtbot, page, folder, tmp_path, monkeypatch):
    allowed = tmp_path / "srv"
    allowed.mkdir()
    panel, controller = page(policy=Policy(documents_folders=(allowed,), sources=(Path("/etc/hearth/policy.toml"),)))
    assert panel.policy_hint.text() == f"Your organisation lets the library hold only folders inside {allowed}."
    problems = []
    controller.problem.connect(problems.append)
    opened_at = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda parent, caption, start: opened_at.append(start) or str(folder))
    controller.add_folder()
    assert opened_at == [str(allowed)]  # the dialog opens where documents are let in
    assert problems[0].startswith(f"{folder} may not be added to the document library: only folders inside {allowed}")
    assert "Locked by your organisation's policy (/etc/hearth/policy.toml)" in problems[0]
    assert not panel.is_indexing()
    inside = allowed / "Team"
    inside.mkdir()
    (inside / "a.txt").write_text("The fire drill is on Friday.\n", encoding="utf-8")
    controller.add(str(inside))
    wait_until(qtbot, lambda: str(inside) in panel.rows and not panel.is_indexing())
    assert controller.library.search("fire drill")[0].path.name == "a.txt"


def test_a_folder_added_before_the_policy_is_marked_as_not_read(qtbot, page, folder, tmp_path):
    Library(tmp_path / "library").add(folder)
    panel, _controller = page(policy=Policy(documents_folders=(tmp_path / "srv",)))
    wait_until(qtbot, lambda: str(folder) in panel.rows)
    details = panel.rows[str(folder)].details.text()
    assert details.endswith("Your organisation's policy keeps this folder out of the library: the model does not "
                            "read it, and Remove forgets it.")
    assert panel.rows[str(folder)].remove_button.isEnabled()


def test_a_policy_that_lets_no_folder_in_locks_adding(qtbot, page):
    panel, _controller = page(policy=Policy(documents_folders=()))
    assert not panel.add_button.isEnabled()
    assert panel.add_button.toolTip().startswith("Your organisation's policy lets no folder into the document library")


def test_the_window_has_a_documents_page(make_window, qtbot, documents_dir, folder):
    window = make_window()
    assert [window.navigation.item(i).text() for i in range(window.navigation.count())] == [
        "Chat", "Documents", "Models", "Hardware"]
    window.show_page("Documents")
    assert window.current_page() is window.documents_panel
    wait_until(qtbot, lambda: window.documents.library is not None)
    assert window.documents.library.folder == documents_dir  # HEARTH_DOCS_DIR, never the person's own
    window.documents.add(str(folder))
    wait_until(qtbot, lambda: str(folder) in window.documents_panel.rows and not window.documents.busy)
    assert Library(documents_dir).folders()[0].documents == 2


class SlowLibrary(Library):
    """Indexing that waits for Cancel before its first file."""

    started: ClassVar[list] = []

    def add(self, folder, *, progress=None, cancel=None):
        self.started.append(cancel)
        cancel.wait(10)
        return super().add(folder, progress=progress, cancel=cancel)


def test_closing_the_window_while_indexing_stops_it(qtbot, page, folder):
    SlowLibrary.started = []
    _panel, controller = page(worker=LibraryWorker(folder.parent / "library", factory=SlowLibrary))
    controller.add(str(folder))
    wait_until(qtbot, lambda: SlowLibrary.started)
    controller.shutdown()
    assert SlowLibrary.started[0].is_set() and not controller.thread.thread.isRunning()
