"""The scrolling list of a conversation's messages. It follows a streaming answer down the
page while the person is at the bottom, and leaves them alone once they scroll up to read.
In a wide window the messages keep to a centred column of `COLUMN_EM`: lines across a whole
wide screen are hard to follow."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from desktop.citations import Resolver
from desktop.history import Message
from desktop.widgets.message_view import MessageView

COLUMN_EM = 50  # the widest the text column grows, in em (about 800 pixels at a 16-pixel font)
MARGIN = 16


class Transcript(QScrollArea):
    citation_activated = Signal(object)  # core.chat.browser_tool.Citation: a citation link was clicked
    edit_requested = Signal(int)
    regenerate_requested = Signal(int)
    version_requested = Signal(int, int)  # message id, version

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setAccessibleName("Conversation")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        inner = QWidget()
        inner.setObjectName("transcriptInner")
        self._list = QVBoxLayout(inner)
        self._list.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        self._list.setSpacing(10)
        self.placeholder = QLabel("Ask anything. Your conversation stays on this computer.")
        self.placeholder.setObjectName("transcriptPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self._list.addWidget(self.placeholder)
        self._list.addStretch(1)
        self.setWidget(inner)
        self.views: list[MessageView] = []
        self.reasoning_display = "collapsed"  # shown / collapsed / hidden, as the window decides
        self.citation_resolver: Resolver | None = None  # the chat's browser, for the answer being written
        self._follow = True
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.verticalScrollBar().rangeChanged.connect(self._range_changed)

    def column_width(self) -> int:
        return COLUMN_EM * QFontInfo(self.font()).pixelSize()

    def _fit_column(self) -> None:
        """Centres the messages in a column no wider than `column_width`: the room left over
        becomes equal margins on both sides."""
        side = max(MARGIN, (self.viewport().width() - self.column_width()) // 2)
        self._list.setContentsMargins(side, MARGIN, side, MARGIN)

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize:  # the window, or the scroll bar coming and going
            self._fit_column()
        return super().viewportEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_column()

    def clear(self) -> None:
        for view in self.views:
            self._list.removeWidget(view)
            view.deleteLater()
        self.views.clear()
        self.placeholder.setVisible(True)
        self._follow = True

    def show_messages(self, messages: list[Message]) -> None:
        self.clear()
        for message in messages:
            self.add_message(message)
        self.update_actions()
        QTimer.singleShot(0, self, self.scroll_to_bottom)

    def add_message(self, message: Message) -> MessageView:
        view = MessageView(message, reasoning_display=self.reasoning_display)
        view.set_citation_resolver(self.citation_resolver)
        view.citation_activated.connect(self.citation_activated)
        view.edit_requested.connect(self.edit_requested)
        view.regenerate_requested.connect(self.regenerate_requested)
        view.version_requested.connect(self.version_requested)
        self._list.insertWidget(self._list.count() - 1, view)  # above the stretch
        self.views.append(view)
        self.placeholder.setVisible(False)
        self._follow = True
        return view

    def set_reasoning_display(self, display: str) -> None:
        self.reasoning_display = display
        for view in self.views:
            view.set_reasoning_display(display)

    def set_citation_resolver(self, resolve: Resolver | None) -> None:
        """The shown chat's browser, which links the citations of the answer being written
        (desktop/citations.py); the answers written link those they keep."""
        self.citation_resolver = resolve
        for view in self.views:
            view.set_citation_resolver(resolve)

    def view_for(self, message_id: int) -> MessageView | None:
        return next((v for v in self.views if v.message.id == message_id), None)

    def update_actions(self, busy: bool = False) -> None:
        """Only the last answer can be regenerated or paged, and nothing while an answer is coming."""
        for i, view in enumerate(self.views):
            view.set_can_regenerate(not busy and i == len(self.views) - 1)
            view.edit_button.setEnabled(not busy)

    def scroll_to_bottom(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _scrolled(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - 4

    def _range_changed(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)
