"""The chat's built-in tools, under the message box: "Search my documents" (the model's browser
over the document library) and "Run Python" (a sandboxed notebook). Each is on or off for the
chat shown; one the organisation or this computer does not allow is greyed out and says why."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QWidget

from desktop.tool_policy import TOOL_LABELS

HINTS = {
    "browser": "Let the model search the folders on the Documents page and cite what it read",
    "python": "Let the model run Python in a sandbox on this computer, with no network",
}


class ToolSwitches(QWidget):
    toggled = Signal(str, bool)  # tool ("browser" or "python"), on

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("toolSwitches")
        self.boxes: dict[str, QCheckBox] = {}
        self._locks: dict[str, str] = {}
        self._hints = dict(HINTS)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for tool, label in TOOL_LABELS.items():
            box = QCheckBox(label, self)
            box.setObjectName(f"{tool}Switch")
            box.toggled.connect(lambda on, t=tool: self.toggled.emit(t, on))
            self.boxes[tool] = box
            layout.addWidget(box)
            self._refresh(tool)
        layout.addStretch(1)

    def tools(self) -> tuple[str, ...]:
        """The tools switched on and allowed, in the canonical order."""
        return tuple(t for t, box in self.boxes.items() if box.isChecked() and t not in self._locks)

    def set_tools(self, tools: tuple[str, ...] | list[str]) -> None:
        """Shows a chat's choice, without `toggled` (nothing changed by the person)."""
        for tool, box in self.boxes.items():
            box.blockSignals(True)
            box.setChecked(tool in tools and tool not in self._locks)
            box.blockSignals(False)

    def set_lock(self, tool: str, reason: str | None) -> None:
        """`reason`: why `tool` may not be turned on (greyed out and off); None: it may."""
        if reason:
            self._locks[tool] = reason
            self.boxes[tool].blockSignals(True)
            self.boxes[tool].setChecked(False)
            self.boxes[tool].blockSignals(False)
        else:
            self._locks.pop(tool, None)
        self._refresh(tool)

    def lock_reason(self, tool: str) -> str | None:
        return self._locks.get(tool)

    def set_hint(self, tool: str, hint: str) -> None:
        """What the switch does, said when it is not locked."""
        self._hints[tool] = hint
        self._refresh(tool)

    def _refresh(self, tool: str) -> None:
        box, reason = self.boxes[tool], self._locks.get(tool)
        box.setEnabled(reason is None)
        box.setToolTip(reason or self._hints[tool])
        box.setAccessibleDescription(reason or self._hints[tool])
