"""The menu bar on its own: each entry asks the window by a signal, Settings -> OK says the
settings were saved (Cancel says nothing), and Export waits until a chat can be exported. The
window's own tests (test_chat_window.py) open the help and about dialogs through it."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from core.system.policy import Policy
from desktop.settings import Settings
from desktop.widgets.menu_bar import MenuBar
from desktop.widgets.settings_dialog import SettingsDialog

PAGES = ("Chat", "Documents", "Models", "Hardware")


@pytest.fixture
def bar(qtbot, tmp_path):
    settings = Settings(tmp_path / "settings.ini")
    settings.theme = "dark"
    # The model switcher's menu and the local API's action, held here as the window holds them.
    model_menu, api = QMenu(), QAction("&Local API for other apps")
    bar = MenuBar(PAGES, model_menu, api, settings, Policy())
    qtbot.addWidget(bar)
    yield bar


def entries(bar: MenuBar) -> dict[str, list[str]]:
    return {m.text(): [a.text() for a in m.menu().actions() if not a.isSeparator()] for m in bar.actions()}


def test_the_menus_and_their_entries(bar):
    assert entries(bar) == {
        "&File": ["&New chat", "&Export chat…", "&Settings…", "&Quit"],
        "&Model": [],
        "&View": [*PAGES, "&Dark theme"],
        "&Tools": ["&Local API for other apps", "&Blocked connections…"],
        "&Help": ["&Getting started", "&Keyboard shortcuts", "&About Hearth"],
    }
    assert bar.dark_action.isChecked()  # as the settings say
    assert not bar.export_action.isEnabled()  # until a chat with messages is shown


def test_each_entry_asks_by_a_signal(qtbot, bar):
    view = bar.actions()[2].menu().actions()
    for i, page in enumerate(PAGES):
        assert view[i].shortcut().toString() == f"Ctrl+{i + 1}"
        with qtbot.waitSignal(bar.page_requested) as asked:
            view[i].trigger()
        assert asked.args == [page]
    with qtbot.waitSignal(bar.new_chat_requested):
        bar.new_chat_action.trigger()
    with qtbot.waitSignal(bar.theme_toggled):
        bar.dark_action.trigger()
    with qtbot.waitSignal(bar.egress_log_requested):
        bar.egress_log_action.trigger()
    bar.export_action.setEnabled(True)
    with qtbot.waitSignal(bar.export_requested):
        bar.export_action.trigger()


def test_settings_ok_says_they_were_saved_and_cancel_says_nothing(qtbot, bar, monkeypatch):
    saved = []
    bar.settings_saved.connect(lambda: saved.append(True))
    monkeypatch.setattr(SettingsDialog, "exec", lambda self: 0)
    bar.open_settings()
    assert saved == []
    monkeypatch.setattr(SettingsDialog, "exec", lambda self: 1)
    bar.open_settings()
    assert saved == [True]
