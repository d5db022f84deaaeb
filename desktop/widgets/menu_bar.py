"""The window's menu bar: File (new chat, export, settings, quit), Model (the chat header's own model
menu), View (the pages, the dark theme), Tools (the local API, the blocked connections) and Help.
It opens the settings, help and about dialogs itself; what the rest of the window does, it asks
for by a signal."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QWidget

from core.system.environment import default_models_dir
from core.system.policy import Policy
from desktop.settings import Settings
from desktop.widgets.settings_dialog import SettingsDialog


class MenuBar(QMenuBar):
    new_chat_requested = Signal()
    export_requested = Signal()
    quit_requested = Signal()
    settings_saved = Signal()  # Settings -> OK: the window applies them
    page_requested = Signal(str)
    theme_toggled = Signal()
    egress_log_requested = Signal()

    def __init__(self, pages: tuple[str, ...], model_menu: QMenu, local_api_action: QAction, settings: Settings,
                 policy: Policy, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings, self.policy = settings, policy
        file_menu = self.addMenu("&File")
        self.new_chat_action = self._add(file_menu, "&New chat", self.new_chat_requested,
                                         QKeySequence.StandardKey.New)
        self.export_action = self._add(file_menu, "&Export chat…", self.export_requested)
        self.export_action.setEnabled(False)  # until a chat with messages is shown
        self._add(file_menu, "&Settings…", self.open_settings, QKeySequence.StandardKey.Preferences)
        file_menu.addSeparator()
        self._add(file_menu, "&Quit", self.quit_requested, QKeySequence.StandardKey.Quit)
        # The same menu as the chat header's model button: installed models and "Manage models…".
        model_menu.setTitle("&Model")
        self.addMenu(model_menu)
        view_menu = self.addMenu("&View")
        for i, page in enumerate(pages):
            self._add(view_menu, page, lambda _c=False, p=page: self.page_requested.emit(p), f"Ctrl+{i + 1}")
        self.dark_action = self._add(view_menu, "&Dark theme", self.theme_toggled)
        self.dark_action.setCheckable(True)
        self.dark_action.setChecked(settings.theme == "dark")
        tools_menu = self.addMenu("&Tools")
        tools_menu.setToolTipsVisible(True)  # a locked entry says why
        tools_menu.addAction(local_api_action)
        self.egress_log_action = self._add(tools_menu, "&Blocked connections…", self.egress_log_requested)
        help_menu = self.addMenu("&Help")
        self.getting_started_action = self._add(help_menu, "&Getting started", self.open_getting_started,
                                                QKeySequence.StandardKey.HelpContents)
        self.shortcuts_action = self._add(help_menu, "&Keyboard shortcuts", self.open_shortcuts)
        help_menu.addSeparator()
        self.about_action = self._add(help_menu, "&About Hearth", self.open_about)

    def _add(self, menu, text, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        menu.addAction(action)
        return action

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, str(default_models_dir()), self.window(), self.policy)
        if dialog.exec():
            dialog.save()
            self.settings_saved.emit()

    def open_getting_started(self) -> None:
        from desktop.widgets.help_dialog import GETTING_STARTED, HelpDialog

        HelpDialog("Getting started", GETTING_STARTED, self.window()).exec()

    def open_shortcuts(self) -> None:
        from desktop.widgets.help_dialog import HelpDialog, shortcuts_html

        HelpDialog("Keyboard shortcuts", shortcuts_html(), self.window()).exec()

    def open_about(self) -> None:
        from desktop.widgets.about_dialog import AboutDialog

        AboutDialog(self.window()).exec()
