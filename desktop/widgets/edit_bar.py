"""The strip above the message box while a sent message is being edited: it says so, and its
Cancel (or Esc) leaves the message as it was and puts back what the box held before."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton


class EditBar(QFrame):
    cancel_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("editBar")
        self.setAccessibleName("Editing a message")
        self.label = QLabel("Editing your message — sending replaces it and the messages after it.")
        self.label.setObjectName("editBarText")
        self.label.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel editing")
        self.cancel_button.setToolTip("Stop editing (Esc): the message stays as it was")
        self.cancel_button.clicked.connect(self.cancel_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.cancel_button)
        self.hide()

    def text(self) -> str:
        return self.label.text()
