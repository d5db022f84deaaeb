"""One built-in tool call of an answer, folded like the reasoning: a header saying what it did
("Searched your documents for “boiler”", "Ran Python"); unfolded, what the model sent (the code,
or the search) and what the tool answered, exactly as the model read it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QToolButton, QVBoxLayout, QWidget

from desktop.tool_steps import ToolStep, step_input, step_title
from desktop.widgets.code_block import CodeBlock


def _plain_label(name: str, description: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    label.setAccessibleDescription(description)
    return label


class ToolStepView(QWidget):
    def __init__(self, step: ToolStep, parent=None):
        super().__init__(parent)
        self.setObjectName("toolStep")
        self.step = step
        self.toggle = QToolButton()
        self.toggle.setObjectName("toolStepToggle")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.toggled.connect(self.set_expanded)
        self.code = CodeBlock("", "python")  # Python's code; the browser's call is a line of `call`
        self.call = _plain_label("toolCall", "What the model asked the tool")
        self.output = _plain_label("toolOutput", "What the tool answered")
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(16, 0, 0, 0)
        body.addWidget(self.code)
        body.addWidget(self.call)
        body.addWidget(self.output)
        self.body.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.body)
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

    def is_expanded(self) -> bool:
        return self.toggle.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        if self.toggle.isChecked() != expanded:
            self.toggle.setChecked(expanded)  # re-enters through `toggled`
            return
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.body.setVisible(expanded)
