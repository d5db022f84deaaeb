"""Asks before a model is deleted: the model's name as the question, its folder on a line of its
own (elided in the middle when long, so both the drive and the model's folder stay readable;
the full path is the tooltip), and what deleting means for it (space freed, or files kept)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QSizePolicy, QVBoxLayout

WIDTH = 460  # about 60 characters of a path: wide enough to read, narrow enough to stay a question


class MiddleElidedLabel(QLabel):
    """One line of text that shortens itself in the middle ("/home/ann/…/gpt-oss-20b") to its width."""

    def __init__(self, text: str, parent=None):
        super().__init__(parent)
        self.full_text = text
        self.setToolTip(text)
        self.setAccessibleName(text)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # The dialog sets the width; the label never asks for the whole path's.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._elide()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.width(), 40)
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideMiddle, width))


class DeleteModelDialog(QDialog):
    def __init__(self, model_id: str, folder: str, detail: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Delete model")
        self.setAccessibleName(f"Delete {model_id}")
        self.message = QLabel(f"Delete {model_id}?")
        self.message.setObjectName("dialogQuestion")
        font = self.message.font()
        font.setBold(True)
        self.message.setFont(font)
        self.folder = MiddleElidedLabel(folder)
        self.folder.setObjectName("hint")  # the theme's quieter text
        self.detail = QLabel(detail)
        self.detail.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.delete_button = self.buttons.addButton("Delete", QDialogButtonBox.ButtonRole.AcceptRole)
        self.delete_button.setAccessibleName(f"Delete {model_id}")
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        # Deleting many gigabytes is never the Enter key's doing: Cancel is the default, and Delete
        # does not become it when focused.
        self.delete_button.setAutoDefault(False)
        self.cancel_button.setDefault(True)
        self.cancel_button.setFocus()
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.folder)
        layout.addWidget(self.detail)
        layout.addWidget(self.buttons)
        self.setFixedWidth(WIDTH)
