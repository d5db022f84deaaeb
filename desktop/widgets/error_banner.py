"""A strip across the top of the window for problems and notices: what happened, what to do
next, an optional action button (e.g. "Open Models"), and a close button. Nothing modal, so
the person can keep reading their conversation. A problem with technical details (file and
tensor names, for a bug report) gets a "Details" button that unfolds them below the sentence."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

INFO_SECONDS = 12  # a notice ("... is ready") goes by itself; a problem stays until dismissed


class ErrorBanner(QFrame):
    action_triggered = Signal(str)  # the action's key

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("banner")
        self.setAccessibleName("Message from Hearth")
        self.label = QLabel()
        self.label.setObjectName("bannerText")
        self.label.setWordWrap(True)
        self.action_button = QPushButton()
        self.action_button.setVisible(False)
        self.action_button.clicked.connect(self._action)
        self.details_button = QPushButton("Details")
        self.details_button.setAccessibleName("Show the technical details")
        self.details_button.setCheckable(True)
        self.details_button.setVisible(False)
        self.details_label = QLabel()
        self.details_label.setObjectName("hint")  # the theme's quieter text
        self.details_label.setWordWrap(True)
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_label.setVisible(False)
        self.details_button.toggled.connect(self.details_label.setVisible)
        self.close_button = QPushButton("Dismiss")
        self.close_button.setAccessibleName("Dismiss this message")
        self.close_button.clicked.connect(self.hide)
        text = QVBoxLayout()
        text.setContentsMargins(0, 0, 0, 0)
        text.addWidget(self.label)
        text.addWidget(self.details_label)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.addLayout(text, 1)
        layout.addWidget(self.details_button)
        layout.addWidget(self.action_button)
        layout.addWidget(self.close_button)
        self._key = ""
        self._expiry = QTimer(self)
        self._expiry.setSingleShot(True)
        self._expiry.timeout.connect(self.hide)
        self.hide()

    def show_message(self, text: str, kind: str = "error", action: tuple[str, str] | None = None,
                     details: str = "") -> None:
        """`kind` is "error" or "info"; `action` is (button text, key) or None; `details` are
        shown under "Details" only."""
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(text)
        self.label.setAccessibleName(text)
        if action:
            self.action_button.setText(action[0])
            self.action_button.setAccessibleName(action[0])
            self._key = action[1]
        self.action_button.setVisible(bool(action))
        self.details_label.setText(details)
        self.details_button.setChecked(False)
        self.details_button.setVisible(bool(details))
        self._expiry.stop()
        if kind == "info" and not action:
            self._expiry.start(INFO_SECONDS * 1000)
        self.show()

    def withdraw(self, words: str) -> None:
        """Hides the message if it says `words`: what it said is no longer true."""
        if self.isVisible() and words in self.label.text():
            self.hide()

    def text(self) -> str:
        return self.label.text()

    def _action(self) -> None:
        self.hide()
        self.action_triggered.emit(self._key)
