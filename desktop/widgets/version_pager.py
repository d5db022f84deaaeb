""""< 2/3 >" beside an answer written more than once: pages through its versions. The version
shown is the one the conversation continues from, so only the latest answer can be paged while
nothing is being written; an earlier answer shows its count alone."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

FIXED_TIP = "The messages after this answer follow from this version; only the latest answer can be switched."


class VersionPager(QWidget):
    version_requested = Signal(int)  # the version to show, from 1

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("versionPager")
        self._version, self._versions, self._can = 1, 1, False
        self.previous_button = self._button("‹", "Previous version of this answer", -1)
        self.label = QLabel()
        self.label.setObjectName("versionLabel")
        self.next_button = self._button("›", "Next version of this answer", +1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.previous_button)
        layout.addWidget(self.label)
        layout.addWidget(self.next_button)
        self.set_versions(1, 1)

    def _button(self, text: str, accessible: str, step: int) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setAutoRaise(True)
        button.setAccessibleName(accessible)
        button.setToolTip(accessible)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.clicked.connect(lambda: self.version_requested.emit(self._version + step))
        return button

    def set_versions(self, version: int, versions: int) -> None:
        """Shows "version/versions"; hidden while there is only one."""
        self._version, self._versions = version, versions
        self.label.setText(f"{version}/{versions}")
        self.label.setAccessibleName(f"Version {version} of {versions}")
        self.setVisible(versions > 1)
        self.set_can_page(self._can)

    def set_can_page(self, can: bool) -> None:
        self._can = can
        self.previous_button.setEnabled(can and self._version > 1)
        self.next_button.setEnabled(can and self._version < self._versions)
        self.label.setToolTip("" if can else FIXED_TIP)

    def text(self) -> str:
        return self.label.text()
