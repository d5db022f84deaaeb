"""The conversations on the left: a search box (Ctrl+F), New chat (Ctrl+N), and the list,
newest first, with rename, export and delete on right-click. It shows what it is given and
reports what the person asked for; the window does the work."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.history import Conversation

ID_ROLE = Qt.ItemDataRole.UserRole


class _Conversations(QListWidget):
    delete_pressed = Signal()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # A right-click opens the menu of the chat under the pointer; it must not open that chat
        # (the menu's actions name it by id), so it never reaches the selection.
        if event.button() == Qt.MouseButton.RightButton:
            event.accept()
            return
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # The Delete key does what "Delete…" in the menu does (the window still asks first);
        # while a title is being edited it belongs to the editor.
        if event.matches(QKeySequence.StandardKey.Delete) and self.state() != self.State.EditingState:
            self.delete_pressed.emit()
            return
        super().keyPressEvent(event)


class ConversationList(QWidget):
    selected = Signal(int)
    new_requested = Signal()
    renamed = Signal(int, str)
    delete_requested = Signal(int)
    export_requested = Signal(int)
    search_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("conversationList")
        self.new_button = QPushButton("New chat")
        self.new_button.setObjectName("newChatButton")
        self.new_button.setAccessibleName("New chat")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.new_button.clicked.connect(self.new_requested)
        self.search = QLineEdit()
        self.search.setObjectName("conversationSearch")
        self.search.setAccessibleName("Search conversations")
        self.search.setPlaceholderText("Search chats (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.search_changed)
        self.list = _Conversations()
        self.list.delete_pressed.connect(self._delete_current)
        self.list.setObjectName("conversations")
        self.list.setAccessibleName("Conversations")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)  # F2 renames
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.itemChanged.connect(self._item_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        self._filling = False

    def set_conversations(self, conversations: list[Conversation], current: int | None = None) -> None:
        self._filling = True
        try:
            self.list.clear()
            for c in conversations:
                item = QListWidgetItem(c.title)
                item.setData(ID_ROLE, c.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                item.setToolTip(c.title)
                self.list.addItem(item)
                if c.id == current:
                    self.list.setCurrentItem(item)
        finally:
            self._filling = False

    def ids(self) -> list[int]:
        return [self.list.item(i).data(ID_ROLE) for i in range(self.list.count())]

    def titles(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(ID_ROLE) if item else None

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def start_rename(self, conversation_id: int) -> None:
        item = self._item(conversation_id)
        if item:
            self.list.editItem(item)

    def _item(self, conversation_id: int) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            if self.list.item(i).data(ID_ROLE) == conversation_id:
                return self.list.item(i)
        return None

    def _delete_current(self) -> None:
        if (cid := self.current_id()) is not None:
            self.delete_requested.emit(cid)

    def _current_changed(self, item: QListWidgetItem | None, _previous) -> None:
        if item is not None and not self._filling:
            self.selected.emit(item.data(ID_ROLE))

    def _item_changed(self, item: QListWidgetItem) -> None:
        if not self._filling:
            self.renamed.emit(item.data(ID_ROLE), item.text())

    def _menu(self, pos) -> None:
        item = self.list.itemAt(pos)
        if item is not None:
            self.menu_for(item).exec(self.list.viewport().mapToGlobal(pos))

    def menu_for(self, item: QListWidgetItem) -> QMenu:
        """The right-click menu of one chat; its actions name that chat, not the open one."""
        cid = item.data(ID_ROLE)
        menu = QMenu(self)
        menu.addAction("Rename", lambda: self.list.editItem(item))
        menu.addAction("Export…", lambda: self.export_requested.emit(cid))
        menu.addSeparator()
        menu.addAction("Delete…", lambda: self.delete_requested.emit(cid))
        return menu
