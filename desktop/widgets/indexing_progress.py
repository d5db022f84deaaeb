"""Indexing a folder of the document library: what is being read, a bar with the file counts,
and Cancel (which keeps everything indexed so far)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from core.docs import IndexProgress


def progress_text(progress: IndexProgress) -> str:
    if progress.phase == "scanning":
        return "Looking for documents…"
    if progress.phase == "done":
        return f"Read {progress.total} document{'s' if progress.total != 1 else ''}."
    where = f": {progress.file}" if progress.file else ""
    return f"Reading {min(progress.done + 1, progress.total)} of {progress.total}{where}"


class IndexingProgress(QWidget):
    cancel_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("indexingProgress")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Indexing progress")
        self.bar.setFormat("%v of %m")  # file counts, not a percentage
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Stop indexing")
        self.cancel_button.setToolTip("Stop indexing; the documents read so far are kept")
        self.cancel_button.clicked.connect(self._cancel)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addLayout(row)

    def start(self, what: str) -> None:
        """Indexing `what` (a folder, or "your folders") begins: a busy bar until files are counted."""
        self.label.setText(f"Indexing {what}…")
        self.bar.setRange(0, 0)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self.show()

    def show_progress(self, progress: IndexProgress) -> None:
        self.label.setText(progress_text(progress))
        if progress.total:
            self.bar.setRange(0, progress.total)
            self.bar.setValue(progress.done)
        elif progress.phase != "done":
            self.bar.setRange(0, 0)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.cancel_requested.emit()
