"""The model menu in the chat header: pick one of the installed models; while one loads, a
progress bar ("Loading gpt-oss-20b… 45%") and a Cancel button stand in its place. Models the
organisation's policy does not allow are listed greyed out, with the policy's reason as their
tooltip. Below them, the models of each remote server (desktop/remote_controller.py), under the
server's name; a server that cannot be reached says so in a greyed-out line, with the reason as
its tooltip. Where the policy keeps models off this computer (`local_models = false`), only the
servers' models are listed."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QProgressBar, QPushButton, QToolButton, QWidget

from core.system.policy import NO_POLICY, Policy
from desktop.remote_servers import model_id_of

MENU_ARROW_ROOM = 44  # pixels beside the text: the button's padding and its menu arrow


@dataclass(frozen=True)
class ServerModels:
    """What the menu lists for one remote server."""

    server: str  # its name: "llm.example.internal"
    names: list[str] = field(default_factory=list)  # its models' names: "gpt-oss-120b on llm.example.internal"
    problem: str = ""  # why its models are not listed (it cannot be reached ...); "" while none
    checking: bool = False  # its list is being asked for


class ModelSwitcher(QWidget):
    model_chosen = Signal(str)  # model id
    cancel_requested = Signal()
    manage_requested = Signal()
    servers_requested = Signal()  # the person wants to add or remove a remote server

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("modelSwitcher")
        self.button = QToolButton()
        self.button.setObjectName("modelButton")
        self.button.setAccessibleName("Model")
        self.button.setToolTip("Choose which model answers")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self)
        self.menu.setToolTipsVisible(True)  # a greyed-out model says why in its tooltip
        self.policy: Policy = NO_POLICY
        self.button.setMenu(self.menu)
        self.loading_label = QLabel()
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Loading the model")
        self.bar.setMaximumWidth(160)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setAccessibleName("Cancel loading the model")
        self.cancel_button.clicked.connect(self.cancel_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.button, self.loading_label, self.bar, self.cancel_button):
            layout.addWidget(w)
        self._current: str | None = None
        self._installed: list[str] = []
        self._servers: list[ServerModels] = []
        self._loading: str | None = None
        self.set_loading(None)
        self.set_models([], None)

    def set_models(self, installed: list[str], current: str | None) -> None:
        self._installed, self._current = list(installed), current
        self.menu.clear()
        local = installed if self.policy.local_models is not False else []
        for model_id in local:
            allowed = self.policy.allows_model(model_id)
            self._add_model(model_id, model_id if allowed else f"{model_id} (not allowed)", allowed,
                            "" if allowed else self.policy.lock_reason("allowed_models") or "")
        for group in self._servers:
            if local or group is not self._servers[0]:
                self.menu.addSeparator()
            self.menu.addSection(f"On {group.server}")
            for name in group.names:
                self._add_model(name, model_id_of(name), True, name)
            if not group.names:
                note = ("Asking for its models…" if group.checking else
                        "Cannot be reached" if group.problem else "Serves no model")
                line = self.menu.addAction(note)
                line.setEnabled(False)
                line.setToolTip(group.problem)
        if local or self._servers:
            self.menu.addSeparator()
        if self.policy.local_models is not False:
            self.menu.addAction("Manage models…", self.manage_requested)
        self.menu.addAction("Servers…", self.servers_requested)
        listed = bool(local) or any(group.names for group in self._servers)
        text = current or ("Choose a model" if listed else "No model installed")
        self.button.setText(text)
        # Room for the whole name and the menu arrow after it (the style's own size hint let the
        # arrow overlap the name's last letters).
        self.button.setMinimumWidth(self.button.fontMetrics().horizontalAdvance(text) + MENU_ARROW_ROOM)

    def _add_model(self, name: str, text: str, allowed: bool, tooltip: str) -> None:
        action = self.menu.addAction(text)
        action.setData(name)
        action.setCheckable(True)
        action.setChecked(name == self._current)
        action.setEnabled(allowed)
        action.setToolTip(tooltip)
        action.triggered.connect(lambda _checked=False, m=name: self.model_chosen.emit(m))

    def set_servers(self, servers: list[ServerModels]) -> None:
        """The remote servers' models, listed after the installed ones."""
        self._servers = list(servers)
        self.set_models(self._installed, self._current)

    def set_policy(self, policy: Policy) -> None:
        self.policy = policy
        self.set_models(self._installed, self._current)

    def model_action(self, model_id: str):
        """The menu entry for `model_id` (for tests and accessibility checks), or None."""
        return next((a for a in self.menu.actions() if a.data() == model_id), None)

    def installed(self) -> list[str]:
        return list(self._installed)

    def set_loading(self, model_id: str | None) -> None:
        if model_id != self._loading:
            # Busy until the first report: opening the files and starting torch take a moment.
            self.bar.setRange(0, 0)
            self.loading_label.setText(f"Loading {model_id}…" if model_id else "")
        self._loading = model_id
        loading = model_id is not None
        for w in (self.loading_label, self.bar, self.cancel_button):
            w.setVisible(loading)
        self.button.setEnabled(not loading)

    def set_progress(self, percent: int) -> None:
        """How much of the loading model's weights is in place."""
        if self._loading is None:
            return
        self.bar.setRange(0, 100)
        self.bar.setValue(percent)
        self.loading_label.setText(f"Loading {self._loading}… {percent}%")
