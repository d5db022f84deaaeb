"""Where the person writes: Enter sends, Shift+Enter starts a new line; the box grows with the
text up to ten lines, then scrolls. The Send button turns into Stop while an answer is coming.
The reasoning-effort selector sits beside it; the chat's tool switches ("Search my documents",
"Run Python") under it.

Editing a sent message puts it in the box under a bar that says so; cancelling puts back what
the box held before (the draft); so does sending it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from desktop.widgets.edit_bar import EditBar
from desktop.widgets.effort_selector import EffortSelector
from desktop.widgets.tool_switches import ToolSwitches

MIN_LINES, MAX_LINES = 3, 10  # the message box grows with its text between these, then scrolls


class MessageEdit(QPlainTextEdit):
    submitted = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # Sent when the text's height in lines changes: typing, pasting, or a rewrap on resize.
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self._fit_height()

    def height_for(self, lines: int) -> int:
        # The lines, the document's margin, and the frame with whatever padding the theme gives
        # it (measured, not assumed: a fixed 18 px left the last line half hidden under a theme).
        margins = self.contentsMargins()
        return (self.fontMetrics().lineSpacing() * lines + round(2 * self.document().documentMargin())
                + margins.top() + margins.bottom() + 2)

    def _fit_height(self, *_size) -> None:
        lines = int(self.document().documentLayout().documentSize().height())
        self.setFixedHeight(self.height_for(max(MIN_LINES, min(MAX_LINES, lines))))

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_height()

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.Polish:  # the theme's padding is known only from here on
            self._fit_height()
        return handled

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class Composer(QWidget):
    send_requested = Signal(str)
    stop_requested = Signal()
    edit_cancelled = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("composer")
        self._busy = False
        self._draft: str | None = None  # what the box held before an edit began; None: not editing
        self.edit_bar = EditBar()
        self.edit_bar.cancel_requested.connect(self.cancel_edit)
        self.edit = MessageEdit()
        self.edit.setObjectName("messageEdit")
        self.edit.setAccessibleName("Message")
        self.edit.setPlaceholderText("Write a message… (Enter sends, Shift+Enter for a new line)")
        self.edit.setTabChangesFocus(True)
        self.edit.submitted.connect(self._submit)
        self.effort = EffortSelector()
        self.tools = ToolSwitches()
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.setAccessibleName("Send message")
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self._send_or_stop)
        side = QVBoxLayout()
        side.addWidget(self.send_button)
        side.addWidget(self.effort)
        side.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.edit, 1)
        row.addLayout(side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 12)
        layout.addWidget(self.edit_bar)
        layout.addLayout(row)
        layout.addWidget(self.tools)

    def text(self) -> str:
        return self.edit.toPlainText()

    def set_text(self, text: str) -> None:
        self.edit.setPlainText(text)
        self.edit.setFocus()
        cursor = self.edit.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        self.edit.setTextCursor(cursor)

    def begin_edit(self, text: str) -> None:
        """Shows `text` (a sent message) for editing; a draft in the box is kept for Cancel."""
        if self._draft is None:
            self._draft = self.text()
        self.set_text(text)
        self.edit_bar.show()

    def is_editing(self) -> bool:
        return self._draft is not None

    def cancel_edit(self) -> None:
        """Stops editing: the box holds its draft again."""
        if self._draft is None:
            return
        draft, self._draft = self._draft, None
        self.edit_bar.hide()
        self.set_text(draft)
        self.edit_cancelled.emit()

    def end_edit(self) -> None:
        """The edited message was sent: the bar goes, and the draft is back in the box."""
        if self._draft is None:
            return
        draft, self._draft = self._draft, None
        self.edit_bar.hide()
        if draft and not self.text():
            self.set_text(draft)

    def set_busy(self, busy: bool) -> None:
        """While busy the button stops the answer; the text box stays editable for the next message."""
        self._busy = busy
        self.send_button.setText("Stop" if busy else "Send")
        self.send_button.setAccessibleName("Stop the answer" if busy else "Send message")
        self.send_button.setObjectName("stopButton" if busy else "sendButton")
        self.send_button.style().unpolish(self.send_button)
        self.send_button.style().polish(self.send_button)

    def set_ready(self, ready: bool, reason: str = "") -> None:
        """Sending needs a loaded model; `reason` tells why it is not possible yet."""
        self.send_button.setEnabled(ready or self._busy)
        self.send_button.setToolTip(reason)

    def _send_or_stop(self) -> None:
        if self._busy:
            self.stop_requested.emit()
        else:
            self._submit()

    def _submit(self) -> None:
        text = self.text().strip()
        if self._busy or not text or not self.send_button.isEnabled():
            return
        self.edit.clear()
        self.send_requested.emit(text)
