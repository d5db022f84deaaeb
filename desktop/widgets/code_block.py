"""A fenced code block in the transcript: monospace, never wrapped, with a Copy button."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSizePolicy, QVBoxLayout


class CodeBlock(QFrame):
    def __init__(self, code: str = "", language: str = "", parent=None):
        super().__init__(parent)
        self.setObjectName("codeBlock")
        self.setAccessibleName(f"Code block{f' ({language})' if language else ''}")
        self.language_label = QLabel(language or "code")
        self.language_label.setObjectName("codeLanguage")
        self.copy_button = QPushButton("Copy")
        self.copy_button.setAccessibleName("Copy code")
        self.copy_button.setToolTip("Copy this code to the clipboard")
        self.copy_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.copy_button.clicked.connect(self.copy)
        header = QHBoxLayout()
        header.setContentsMargins(8, 4, 4, 0)
        header.addWidget(self.language_label)
        header.addStretch(1)
        header.addWidget(self.copy_button)

        self.editor = QPlainTextEdit()
        self.editor.setObjectName("codeText")
        self.editor.setReadOnly(True)
        self.editor.setAccessibleName("Code")
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.editor.setFrameShape(QFrame.Shape.NoFrame)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.editor.setFont(font)
        self.editor.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.editor)
        self.set_code(code)

    def set_language(self, language: str) -> None:
        """The fence's language can arrive a token after the fence itself."""
        self.language_label.setText(language or "code")
        self.setAccessibleName(f"Code block{f' ({language})' if language else ''}")

    def code(self) -> str:
        return self.editor.toPlainText()

    def set_code(self, code: str) -> None:
        if code == self.editor.toPlainText():
            return
        self.editor.setPlainText(code)
        # The block grows with its code so the transcript, not the block, scrolls.
        lines = max(1, code.count("\n") + 1)
        metrics = self.editor.fontMetrics()
        scrollbar = self.editor.horizontalScrollBar().sizeHint().height()
        self.editor.setFixedHeight(lines * metrics.lineSpacing() + 16 + scrollbar)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.code())
        self.copy_button.setText("Copied")
        # The widget as context: the timer dies with it if the message is removed meanwhile.
        QTimer.singleShot(1500, self, self._reset_copy_label)

    def _reset_copy_label(self) -> None:
        self.copy_button.setText("Copy")
