"""Where file dialogs open: the folder last used for that kind of action, else the home folder,
never the folder Hearth was started from; and each remembers the folder chosen."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog

from desktop.file_dialogs import start_folder
from desktop.settings import Settings
from desktop.widgets.settings_dialog import SettingsDialog


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.chdir(tmp_path)  # the working folder, where the dialogs once opened
    return home


@pytest.fixture
def opened(monkeypatch):
    """The folder each getExistingDirectory / getSaveFileName opened at, and what it answers."""
    calls, answers = [], []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        lambda parent, caption, start: calls.append(start) or answers.pop(0))
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, caption, start, filters: calls.append(start) or answers.pop(0))
    return calls, answers


def test_start_folder(home, tmp_path):
    usb = tmp_path / "usb" / "models"
    usb.mkdir(parents=True)
    assert start_folder("") == str(home) and start_folder(None) == str(home)
    assert start_folder(usb) == str(usb)
    assert start_folder(usb / "unplugged" / "gone") == str(usb)  # the nearest folder still there
    assert start_folder("/no-such-drive/x") == str(home)  # not the bare root


def test_settings_keep_each_kind_of_folder(tmp_path):
    settings = Settings(tmp_path / "s.ini")
    assert (settings.import_folder, settings.model_export_folder, settings.chat_export_folder) == ("", "", "")
    settings.import_folder, settings.chat_export_folder = "/media/usb", "/home/ann/Documents"
    again = Settings(tmp_path / "s.ini")
    assert (again.import_folder, again.chat_export_folder) == ("/media/usb", "/home/ann/Documents")


def test_importing_opens_at_home_then_where_the_last_model_was(qtbot, make_window, home, tmp_path, opened):
    calls, answers = opened
    drive = tmp_path / "usb"
    (drive / "not-a-model").mkdir(parents=True)
    window = make_window()
    answers += [str(drive / "not-a-model"), ""]
    window.models_panel.import_button.click()  # an empty folder: said at once, and still remembered
    window.models_panel.import_button.click()
    assert calls == [str(home), str(drive)]
    assert window.settings.import_folder == str(drive)


def test_exporting_a_model_remembers_where(qtbot, make_window, store, tiny_checkpoint, home, tmp_path, opened,
                                          monkeypatch):
    calls, answers = opened
    store.import_folder(tiny_checkpoint, model_id="gpt-oss-20b", copy=False)
    window = make_window()
    monkeypatch.setattr(window.models.jobs, "export", lambda model_id, folder: None)
    stick = tmp_path / "stick"
    stick.mkdir()
    answers += [str(stick), ""]
    window.models.export("gpt-oss-20b")
    window.models.export("gpt-oss-20b")
    assert calls == [str(home), str(stick)] and window.settings.model_export_folder == str(stick)


def test_exporting_a_chat_opens_at_home_with_its_name_then_where_the_last_one_went(qtbot, make_window, home,
                                                                                  tmp_path, opened):
    calls, answers = opened
    window = make_window()
    cid = window.history.create_conversation("Bread").id
    window.history.add_message(cid, "user", "How long to knead?")
    documents = tmp_path / "documents"
    documents.mkdir()
    answers += [(str(documents / "Bread.md"), "Markdown (*.md)"), ("", "")]
    window.conversations.export(cid)
    window.conversations.export(cid)
    assert calls == [str(home / "Bread.md"), str(documents / "Bread.md")]
    assert window.settings.chat_export_folder == str(documents) and (documents / "Bread.md").is_file()


def test_choosing_the_models_folder_opens_at_the_one_in_use(qtbot, home, tmp_path, opened):
    calls, answers = opened
    default = tmp_path / "default-models"
    default.mkdir()
    dialog = SettingsDialog(Settings(tmp_path / "s.ini"), str(default))
    qtbot.addWidget(dialog)
    chosen = tmp_path / "big-disk"
    chosen.mkdir()
    answers += [str(chosen), ""]
    dialog.browse.click()  # once: the folder Hearth was started from
    assert dialog.models_dir.text() == str(chosen)
    dialog.browse.click()
    assert calls == [str(default), str(chosen)]
