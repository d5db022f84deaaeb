"""The list of connections offline mode refused: when, what, to where and from which code,
newest last, kept up to date while the dialog is open; and, where the policy approves remote
model servers, the connections let through to them, listed apart."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QVBoxLayout

from core.system.egress import LOG_LIMIT
from desktop.egress_monitor import EgressMonitor, approved_names


class EgressLogDialog(QDialog):
    def __init__(self, monitor: EgressMonitor, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Blocked connections")
        self.setAccessibleName("Blocked connections")
        self.monitor = monitor
        self.summary = QLabel()
        self.summary.setObjectName("pageTitle")
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Blocked connection attempts")
        self.approved_title = QLabel()
        self.approved_list = QListWidget()
        self.approved_list.setAccessibleName("Connections to the approved servers")
        self._approved = bool(monitor.guard.approved_servers)  # a policy that approves servers: list them too
        self.approved_title.setVisible(self._approved)
        self.approved_list.setVisible(self._approved)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.explanation)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.approved_title)
        layout.addWidget(self.approved_list, 1)
        layout.addWidget(buttons)
        self.resize(640, 360)
        monitor.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        guard = self.monitor.guard
        self.summary.setText(guard.summary())
        attempts = guard.log()
        text = self.monitor.explanation().removesuffix(" Click to see them.")
        if guard.blocked > len(attempts):
            text += f" The last {LOG_LIMIT} are listed."
        self.explanation.setText(text)
        self.list.clear()
        if attempts:
            self.list.addItems([str(a) for a in attempts])
        else:
            self.list.addItem("Nothing has tried to connect outside this computer.")
        if self._approved:
            connections = guard.approved_connections()
            self.approved_title.setText(f"Connections to {approved_names(guard)}, approved by your organisation "
                                        f"({guard.approved})")
            self.approved_list.clear()
            self.approved_list.addItems([str(c) for c in connections] or ["None yet."])
