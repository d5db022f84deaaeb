"""The Chat page's layout: conversations on the left; on the right the model menu, the chat's
Instructions and Export buttons, the transcript and the composer. It only arranges its
children; the chat controller and the window drive them.

In a narrow window (under NARROW pixels) the conversation list folds away so the chat keeps
its room, and a "Chats" button in the header shows or hides it; widening the window brings
the list back."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

from desktop.widgets.composer import Composer
from desktop.widgets.conversation_list import ConversationList
from desktop.widgets.model_switcher import ModelSwitcher
from desktop.widgets.transcript import Transcript

NARROW = 760  # pixels: below this the conversation list folds away
LIST_WIDTH = 240


class ChatPage(QSplitter):
    instructions_requested = Signal()
    export_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("chatPage")
        self.conversation_list = ConversationList()
        self.transcript = Transcript()
        self.composer = Composer()
        self.switcher = ModelSwitcher()
        self.instructions_button = QPushButton("Instructions…")
        self.instructions_button.setAccessibleName("Instructions for this chat")
        self.instructions_button.setToolTip("Tell the model how to behave in this chat")
        self.instructions_button.clicked.connect(self.instructions_requested)
        self.export_button = QPushButton("Export…")
        self.export_button.setAccessibleName("Export this chat")
        self.export_button.setToolTip("Save this chat as Markdown, or as JSON with the model's reasoning")
        self.export_button.clicked.connect(self.export_requested)
        self.chats_button = QPushButton("Chats")
        self.chats_button.setAccessibleName("Show or hide the list of chats")
        self.chats_button.setToolTip("Show or hide your chats")
        self.chats_button.setCheckable(True)
        self.chats_button.toggled.connect(self._show_list)
        self.chats_button.hide()
        header = QHBoxLayout()
        header.setContentsMargins(12, 8, 12, 0)
        header.addWidget(self.chats_button)
        header.addWidget(self.switcher)
        header.addStretch(1)
        header.addWidget(self.instructions_button)
        header.addWidget(self.export_button)
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(header)
        column.addWidget(self.transcript, 1)
        column.addWidget(self.composer)
        self.addWidget(self.conversation_list)
        self.addWidget(right)
        self.setStretchFactor(1, 1)
        self.setCollapsible(1, False)
        self.setSizes([LIST_WIDTH, 860])
        self._narrow = False

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        narrow = event.size().width() < NARROW
        if narrow != self._narrow:
            self._narrow = narrow
            self.chats_button.setVisible(narrow)
            self.chats_button.setChecked(False)
            self._show_list(not narrow)

    def _show_list(self, shown: bool) -> None:
        width = self.width()
        self.setSizes([LIST_WIDTH, max(width - LIST_WIDTH, 1)] if shown else [0, width])
