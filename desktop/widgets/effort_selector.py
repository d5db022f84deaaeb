"""Low / medium / high reasoning effort: how long the model may think before answering."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox

LABELS = {"low": "Think briefly", "medium": "Think normally", "high": "Think hard"}


class EffortSelector(QComboBox):
    effort_changed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("effortSelector")
        self.setAccessibleName("Reasoning effort")
        self.setToolTip("How long the model thinks before it answers: longer is slower but often better.")
        for effort, label in LABELS.items():
            self.addItem(label, effort)
        self.setCurrentIndex(1)
        self.currentIndexChanged.connect(lambda _i: self.effort_changed.emit(self.effort()))

    def effort(self) -> str:
        return self.currentData()

    def set_effort(self, effort: str) -> None:
        index = self.findData(effort)
        if index >= 0:
            self.setCurrentIndex(index)
