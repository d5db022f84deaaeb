"""A cited document in Hearth's own window: its text as the chat's browser showed it to the model
(desktop/cited_document.py), scrolled to the cited lines, which are highlighted, and a button that
opens the file in the program the system uses for it (a PDF at its page, where that program
follows a `#page=N` link).

Every citation opens here, a PDF's included: the system's programs cannot be told a line, and
most drop the page too (Qt hands the program the file, and xdg-open, Windows and macOS leave the
`#page=` part behind), so only this view lands on the cited place every time. A file that is gone
or cannot be read shows a sentence saying so.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from core.chat.browser_tool import Citation
from core.docs import Library
from desktop.citations import citation_label
from desktop.cited_document import CitedFileProblem, CitedText, cited_text, missing_sentence

NOT_FOUND = "The cited lines are not in the document as it reads now; it may have changed since."


def _open_url(url: str) -> bool:
    return QDesktopServices.openUrl(QUrl(url))


class DocumentViewer(QDialog):
    """`text`: the document and its cited lines; else `problem`, the sentence why it cannot be
    shown. `open_url(url) -> bool` hands a file to the system (tests give a fake)."""

    def __init__(self, citation: Citation, text: CitedText | None, problem: str = "", parent: QWidget | None = None,
                 open_url: Callable[[str], bool] = _open_url):
        super().__init__(parent)
        self.citation, self.cited, self._open_url = citation, text, open_url
        self.setWindowTitle(citation_label(citation))
        self.setAccessibleName(f"Cited document: {citation_label(citation)}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        title = QLabel(citation.title or citation.path.name)
        title.setObjectName("pageTitle")
        where = QLabel(f"{citation_label(citation)} — {citation.path}")
        where.setWordWrap(True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel(problem or (NOT_FOUND if text is not None and text.first is None else ""))
        self.note.setObjectName("viewerNote")
        self.note.setWordWrap(True)
        self.note.setVisible(bool(self.note.text()))
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName("Document text")
        self.text.setPlainText("\n".join(text.lines) if text is not None else "")
        self.text.setVisible(text is not None)
        self.open_button = QPushButton("Open in default app")
        self.open_button.setToolTip("Open the file in the program this computer uses for it")
        self.open_button.setEnabled(citation.path.is_file())
        self.open_button.clicked.connect(self.open_in_default_app)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(where)
        layout.addWidget(self.note)
        layout.addWidget(self.text, 1)
        layout.addStretch(0 if text is not None else 1)
        layout.addWidget(buttons)
        self.resize(720, 560 if text is not None else 200)
        self._highlight()

    def highlighted_lines(self) -> list[str]:
        """The lines shown highlighted: the cited ones."""
        document = self.text.document()
        return [document.findBlockByNumber(selection.cursor.blockNumber()).text()
                for selection in self.text.extraSelections()]

    def _highlight(self) -> None:
        if self.cited is None or self.cited.first is None:
            return
        color = QColor(self.palette().highlight().color())
        color.setAlpha(70)
        selections = []
        for number in range(self.cited.first, self.cited.last + 1):
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(color)
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            selection.cursor = QTextCursor(self.text.document().findBlockByNumber(number))
            selections.append(selection)
        self.text.setExtraSelections(selections)
        self.text.setTextCursor(QTextCursor(self.text.document().findBlockByNumber(self.cited.first)))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # Centred once the view has its size: before that it cannot know where the middle is.
        QTimer.singleShot(0, self, self.text.centerCursor)

    def open_in_default_app(self) -> None:
        if not self.citation.path.is_file():
            self._say(missing_sentence(self.citation.path))
            self.open_button.setEnabled(False)
        elif not self._open_url(self.citation.url):
            self._say(f"No program on this computer opened “{self.citation.path.name}”.")

    def _say(self, sentence: str) -> None:
        self.note.setText(sentence)
        self.note.setVisible(True)


def show_citation(citation: Citation, library: Library | None, parent: QWidget | None = None,
                  open_url: Callable[[str], bool] = _open_url) -> DocumentViewer:
    """Opens a viewer of the cited place (the window stays usable beside it); returns it."""
    try:
        viewer = DocumentViewer(citation, cited_text(citation, library), parent=parent, open_url=open_url)
    except CitedFileProblem as problem:
        viewer = DocumentViewer(citation, None, str(problem), parent=parent, open_url=open_url)
    viewer.show()
    return viewer
