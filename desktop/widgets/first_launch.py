"""The first screen when no model is installed: says what Hearth is, which model suits this
machine and why, and offers to download it or import it from a folder (the download greyed
out, saying why, where the organisation's policy turns downloads off)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from core.system.hardware import Recommendation
from desktop.widgets.format import size_text


class FirstLaunch(QWidget):
    download_requested = Signal(str)
    import_requested = Signal()
    browse_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("firstLaunch")
        title = QLabel("Welcome to Hearth")
        title.setObjectName("welcomeTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        intro = QLabel("Hearth runs OpenAI's gpt-oss models on this computer. Nothing you type leaves it. "
                       "First, Hearth needs a model: a large file it downloads once.")
        intro.setWordWrap(True)
        intro.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.recommendation = QLabel("Looking at this computer…")
        self.recommendation.setObjectName("recommendation")
        self.recommendation.setWordWrap(True)
        self.recommendation.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.recommendation.setAccessibleDescription("Recommended model")
        self.download_button = QPushButton("Download")
        self.download_button.setObjectName("primaryButton")
        self.download_button.setEnabled(False)
        self.download_button.clicked.connect(self._download)
        self.import_button = QPushButton("I have the model files: import a folder…")
        self.import_button.setAccessibleName("Import a model from a folder")
        self.import_button.clicked.connect(self.import_requested)
        self.browse_button = QPushButton("See all models")
        self.browse_button.setAccessibleName("See all models")
        self.browse_button.clicked.connect(self.browse_requested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.download_button, self.import_button, self.browse_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        column = QVBoxLayout()
        column.addStretch(1)
        for w in (title, intro, self.recommendation):
            column.addWidget(w)
            column.addSpacing(12)
        column.addLayout(buttons)
        column.addStretch(2)
        layout = QHBoxLayout(self)
        layout.addStretch(1)
        layout.addLayout(column, 4)
        layout.addStretch(1)
        self._model: str | None = None
        self._download_refusal: str | None = None

    def set_download_refusal(self, reason: str | None) -> None:
        """`reason` (the policy's) when downloads are turned off, None when they are allowed."""
        self._download_refusal = reason
        self.download_button.setToolTip(reason or "")
        self.download_button.setEnabled(self._model is not None and reason is None)
        # Where downloads are off, importing is the way forward: it gets the primary look, and
        # the refused download a plain greyed-out one.
        primary, other = (self.import_button, self.download_button) if reason else \
            (self.download_button, self.import_button)
        primary.setObjectName("primaryButton")
        other.setObjectName("")
        for button in (primary, other):
            button.style().unpolish(button)
            button.style().polish(button)

    def set_recommendation(self, rec: Recommendation, download_bytes: int | None = None) -> None:
        self._model = rec.model
        self.recommendation.setText(rec.message)
        if rec.model:
            size = f" ({size_text(download_bytes)})" if download_bytes else ""
            self.download_button.setText(f"Download {rec.model}{size}")
            self.download_button.setAccessibleName(f"Download {rec.model}")
        else:
            self.download_button.setText("Download")
        self.download_button.setEnabled(rec.model is not None and self._download_refusal is None)

    def _download(self) -> None:
        if self._model:
            self.download_requested.emit(self._model)
