"""Edits a conversation's instructions (the system prompt): how the model should behave in it."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout


class InstructionsDialog(QDialog):
    def __init__(self, instructions: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Instructions for this chat")
        hint = QLabel("Tell the model how to behave in this chat, e.g. “Answer in French” or “Be brief”.")
        hint.setWordWrap(True)
        self.edit = QPlainTextEdit(instructions)
        self.edit.setAccessibleName("Instructions")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.edit, 1)
        layout.addWidget(buttons)
        self.resize(480, 280)

    def instructions(self) -> str:
        return self.edit.toPlainText().strip()
