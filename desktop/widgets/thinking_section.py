"""The model's reasoning (the harmony "analysis" channel), folded away under a "Thinking"
header by default; the header tells how long the model thought."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QToolButton, QVBoxLayout, QWidget


def duration_text(seconds: float) -> str:
    if seconds < 1:
        return "less than a second"
    if seconds < 60:
        n = round(seconds)
        return f"{n} second{'s' if n != 1 else ''}"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


class ThinkingSection(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("thinking")
        self._running = False
        self._seconds: float | None = None
        self.toggle = QToolButton()
        self.toggle.setObjectName("thinkingToggle")
        self.toggle.setCheckable(True)
        self.toggle.setChecked(False)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setAccessibleName("Show or hide the model's thinking")
        self.toggle.toggled.connect(self.set_expanded)
        self.body = QLabel()
        self.body.setObjectName("thinkingText")
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.PlainText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setAccessibleDescription("The model's thinking")
        self.body.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.body)
        self._refresh_title()

    def is_expanded(self) -> bool:
        return self.toggle.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        if self.toggle.isChecked() != expanded:
            self.toggle.setChecked(expanded)  # re-enters through `toggled`
            return
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.body.setVisible(expanded)

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
