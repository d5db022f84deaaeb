"""One built-in tool call of an answer, folded like the reasoning: a header saying what it did
("Searched your documents for “boiler”", "Ran Python"); unfolded, what the model sent (the code,
or the search) and what the tool answered, exactly as the model read it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop.tool_steps import ToolStep, step_input, step_title
from desktop.widgets.code_block import CodeBlock
from desktop.widgets.folded_section import FoldedSection


def _plain_label(name: str, description: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    label.setAccessibleDescription(description)
    return label


class ToolStepView(FoldedSection):
    def __init__(self, step: ToolStep, parent=None):
        self.code = CodeBlock("", "python")  # Python's code; the browser's call is a line of `call`
        self.call = _plain_label("toolCall", "What the model asked the tool")
        self.output = _plain_label("toolOutput", "What the tool answered")
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(16, 0, 0, 0)
        column.addWidget(self.code)
        column.addWidget(self.call)
        column.addWidget(self.output)
        super().__init__("toolStep", body, parent)
        self.step = step
        self.set_step(step)

    def set_step(self, step: ToolStep) -> None:
        self.step = step
        title = step_title(step)
        self.toggle.setText(title)
        self.toggle.setAccessibleName(f"{title}: show or hide the details")
        python = step.name == "python"
        self.code.setVisible(python)
        self.code.set_code(step.arguments if python else "")
        self.call.setVisible(not python)
        self.call.setText(step_input(step) if not python else "")
        shown = step.output.rstrip("\n") if step.output else ("" if step.state in ("writing", "running") else
                                                               "(no output)")
        self.output.setText(shown)
        self.output.setVisible(bool(shown))
