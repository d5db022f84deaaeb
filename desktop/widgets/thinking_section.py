"""The model's reasoning (the harmony "analysis" channel), folded away under a "Thinking"
header by default; the header tells how long the model thought."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from desktop.widgets.folded_section import FoldedSection


def duration_text(seconds: float) -> str:
    if seconds < 1:
        return "less than a second"
    if seconds < 60:
        n = round(seconds)
        return f"{n} second{'s' if n != 1 else ''}"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


class ThinkingSection(FoldedSection):
    def __init__(self, parent=None):
        body = QLabel()
        body.setObjectName("thinkingText")
        body.setWordWrap(True)
        body.setTextFormat(Qt.TextFormat.PlainText)
        body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        body.setAccessibleDescription("The model's thinking")
        super().__init__("thinking", body, parent)
        self._running = False
        self._seconds: float | None = None
        self.toggle.setAccessibleName("Show or hide the model's thinking")
        self._refresh_title()

    def text(self) -> str:
        return self.body.text()

    def set_text(self, text: str) -> None:
        self.body.setText(text)

    def set_running(self, running: bool) -> None:
        self._running = running
        self._refresh_title()

    def set_duration(self, seconds: float | None) -> None:
        self._seconds = seconds
        self._refresh_title()

    def title(self) -> str:
        return self.toggle.text()

    def _refresh_title(self) -> None:
        if self._running:
            title = "Thinking…"
        elif self._seconds is not None:
            title = f"Thought for {duration_text(self._seconds)}"
        else:
            title = "Thinking"
        self.toggle.setText(title)
