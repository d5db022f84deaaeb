"""The Servers dialog: the remote servers whose models the Model menu lists, what each
answered (its models, or why it cannot be reached), and a form to add one (its address, which
API to speak, an optional API key kept in the system keyring) or remove one the person added.
The organisation's approved servers are listed as such and cannot be removed here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from core.remote import ENV_VAR
from desktop.remote_servers import model_id_of

API_CHOICES = (("chat", "Chat completions (every server)"), ("responses", "Responses API"))


def server_line(name: str, from_policy: bool, models: list[str], problem: str, checking: bool) -> str:
    """One row of the list: "llm.example.internal (your organisation's) · 2 models: gpt-oss-120b, …"."""
    head = f"{name} (your organisation's)" if from_policy else name
    if checking:
        return f"{head} · asking for its models…"
    if problem:
        return f"{head} · {problem}"
    if not models:
        return f"{head} · serves no model"
    ids = [model_id_of(m) for m in models]
    return f"{head} · {len(ids)} model{'s' if len(ids) != 1 else ''}: {', '.join(ids)}"


class ServersDialog(QDialog):
    def __init__(self, controller, parent=None):
        """`controller`: desktop.remote_controller.RemoteController."""
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("Servers")
        self.setAccessibleName("Servers")
        intro = QLabel("Models on your organisation's servers (vLLM, SGLang, llama.cpp, Ollama or another Hearth) "
                       "answer here like models on this computer. What you type is sent to that server.")
        intro.setWordWrap(True)
        self.list = QListWidget()
        self.list.setAccessibleName("Servers")
        self.list.setWordWrap(True)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setAccessibleName("Remove the chosen server")
        self.remove_button.clicked.connect(self._remove)
        self.list.currentRowChanged.connect(self._chosen)

        self.address = QLineEdit()
        self.address.setPlaceholderText("https://llm.example.internal/v1")
        self.address.setAccessibleName("Server address")
        self.api = QComboBox()
        self.api.setAccessibleName("API")
        for key, text in API_CHOICES:
            self.api.addItem(text, key)
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setAccessibleName("API key")
        if controller.keys.available:
            self.key.setPlaceholderText("If the server asks for one; kept in this computer's keyring")
        else:
            self.key.setEnabled(False)
            self.key.setPlaceholderText(f"No keyring here: set {ENV_VAR} before starting Hearth")
        self.add_button = QPushButton("Add")
        self.add_button.setAccessibleName("Add the server")
        self.add_button.setDefault(True)
        self.add_button.clicked.connect(self._add)
        self.problem = QLabel()
        self.problem.setObjectName("problemText")
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.setVisible(False)

        form = QFormLayout()
        form.addRow("Address", self.address)
        form.addRow("API", self.api)
        form.addRow("API key", self.key)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.remove_button)
        row.addWidget(self.add_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.resize(640, 440)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        controller.changed.connect(self.refresh)
        self.refresh()

    def refresh(self, *_args) -> None:
        chosen = self.list.currentRow()
        self.list.clear()
        listed = {group.server: group for group in self.controller.listed()}
        for entry in self.controller.entries():
            group = listed.get(entry.name)
            item = QListWidgetItem(server_line(entry.name, entry.from_policy, group.names if group else [],
                                               group.problem if group else "", bool(group and group.checking)))
            item.setData(Qt.ItemDataRole.UserRole, entry)
            self.list.addItem(item)
        if not self.list.count():
            self.list.addItem("No server yet: add one below.")
        self.list.setCurrentRow(min(chosen, self.list.count() - 1))
        self._chosen(self.list.currentRow())

    def _entry(self):
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _chosen(self, _row: int) -> None:
        entry = self._entry()
        self.remove_button.setEnabled(entry is not None and not entry.from_policy)
        self.remove_button.setToolTip("Your organisation's servers can only be removed by the administrator."
                                      if entry is not None and entry.from_policy else "")
        if entry is not None:  # ready to change its API or key
            self.address.setText(str(entry.url))
            self.api.setCurrentIndex(max(0, self.api.findData(entry.api)))

    def _add(self) -> None:
        self._say(self.controller.add(self.address.text(), self.api.currentData(), self.key.text()))
        self.key.clear()

    def _remove(self) -> None:
        entry = self._entry()
        if entry is not None:
            self._say(self.controller.remove(entry.url))

    def _say(self, problem: str | None) -> None:
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))
