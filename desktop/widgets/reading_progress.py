"""The answer's first line while the model reads a long message: how much it has read and
about how long the rest takes ("Reading your message: 42%, about 1 min left"), with a bar."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from desktop.reading import Reading
from desktop.widgets.format import eta_text


def reading_text(reading: Reading) -> str:
    return f"Reading your message: {reading.percent}%, {eta_text(reading.seconds_left)}"


class ReadingProgress(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("readingProgress")
        self.label = QLabel()
        self.label.setObjectName("readingText")
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)  # the label says the number
        self.bar.setMaximumHeight(6)
        self.bar.setAccessibleName("Reading your message")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)

    def show_reading(self, reading: Reading) -> None:
        self.label.setText(reading_text(reading))
        self.bar.setValue(reading.percent)

    def text(self) -> str:
        return self.label.text()
