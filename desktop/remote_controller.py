"""Remote servers on the GUI side: asks each server which models it serves (in the background:
a server may take seconds to answer, or never: each is asked from a daemon thread, which
Hearth does not wait for when it closes), feeds the Models menu and the Servers dialog,
and adds or removes the person's servers and their API keys.

The organisation's servers (the policy's `servers`) are listed from the start and cannot be
removed; what a person adds is checked against the policy first, so a server it does not
approve is refused with the policy's reason before any connection.
"""

from __future__ import annotations

import contextlib
import itertools
import threading

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from core.errors import HearthError
from core.remote import ApiKeys, RemoteServer, api_key_for
from core.system.policy import Policy
from core.system.server_url import ServerUrl
from desktop.errors import explain
from desktop.remote_servers import RemoteServers, ServerEntry
from desktop.settings import Settings
from desktop.widgets.model_switcher import ServerModels

LIST_TIMEOUTS = {"connect_timeout": 5.0, "read_timeout": 15.0}  # seconds: a list is short, or the server is not there


class RemoteController(QObject):
    changed = Signal(list)  # list[ServerModels], in the servers' order
    models_found = Signal(list)  # the names of a server's models, as soon as it listed them
    _answered = Signal(object, object, str)  # from a daemon thread: entry, its models or None, why not

    def __init__(self, settings: Settings, policy: Policy, keys: ApiKeys | None = None, parent=None):
        super().__init__(parent)
        self.servers = RemoteServers(settings, policy)
        self.policy = policy
        self.keys = keys or ApiKeys()
        # The process's egress guard (desktop.egress_monitor.Guard), when one is installed: in offline
        # mode a server it would refuse is not asked at all (no blocked attempt at every start).
        self.guard = None
        self._lists: dict[tuple[str, str, int], ServerModels] = {}
        self._asking: dict[tuple[str, str, int], int] = {}  # server -> the number of its question now asked
        self._questions = itertools.count(1)
        self._answered.connect(self._on_answer)  # queued: emitted from the asking thread

    def listed(self) -> list[ServerModels]:
        return [self._lists.get(e.url.origin) or ServerModels(e.name) for e in self.servers.entries()]

    # -- asking the servers --------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """Asks every server for its models again."""
        for entry in self.servers.entries():
            self._ask(entry)
        self.changed.emit(self.listed())

    def _ask(self, entry: ServerEntry) -> None:
        origin = entry.url.origin
        if origin in self._asking:
            return
        if (refused := self._offline_refusal(entry)) is not None:
            self._lists[origin] = ServerModels(entry.name, problem=refused)
            return
        self._asking[origin] = asked = next(self._questions)
        self._lists[origin] = ServerModels(entry.name, checking=True)
        threading.Thread(target=self._models_of, args=(entry, asked), name="hearth-server-models",
                         daemon=True).start()

    def _offline_refusal(self, entry: ServerEntry) -> str | None:
        if self.guard is None or not self.guard.refuses(*entry.url.endpoint):
            return None
        return (f"Offline mode is on, so Hearth does not connect to {entry.name}. Turn offline mode off in "
                "Settings to use its models.")

    def _models_of(self, entry: ServerEntry, asked: int) -> None:
        """Run in the asking thread: the key from the keyring, then the server's list."""
        try:
            server = RemoteServer.open(entry.url, api_key=api_key_for(entry.url, keys=self.keys),
                                       policy=self.policy, **LIST_TIMEOUTS)
            models, why = server.models(), ""
        except Exception as error:  # every failure becomes the sentence the menu shows
            models, why = None, explain(error).text()
        with contextlib.suppress(RuntimeError):  # the window closed while the server was being asked
            self._answered.emit((entry, asked), models, why)

    @Slot(object, object, str)
    def _on_answer(self, question: tuple[ServerEntry, int], models: list[str] | None, why: str) -> None:
        entry, asked = question
        if self._asking.get(entry.url.origin) != asked:
            return  # an earlier question, asked again since (a new key ...)
        del self._asking[entry.url.origin]
        if all(e.url.origin != entry.url.origin for e in self.servers.entries()):
            return  # removed while it was asked
        if models is None:
            self._lists[entry.url.origin] = ServerModels(entry.name, problem=why)
            self.changed.emit(self.listed())
            return
        names = [entry.model_name(m) for m in models]
        self._lists[entry.url.origin] = ServerModels(entry.name, names)
        self.changed.emit(self.listed())
        if names:
            self.models_found.emit(names)

    # -- the person's servers --------------------------------------------------------------
    def add(self, address: str, api: str, key: str) -> str | None:
        """Adds (or updates) a server, keeps its key in the keyring when one is given, and asks
        it for its models. Returns why it was refused, as a sentence; None when added."""
        try:
            entry = self.servers.add(address, api)
            if key.strip():
                self.keys.store(entry.url, key.strip())
        except HearthError as error:
            return explain(error).text()
        self._asking.pop(entry.url.origin, None)  # a new address or key: ask again, whatever the last answer
        self._ask(entry)
        self.changed.emit(self.listed())
        return None

    def remove(self, url: ServerUrl) -> str | None:
        """Forgets a server the person added, and its key. Returns why not, as a sentence."""
        entry = next((e for e in self.servers.entries() if e.url.origin == url.origin), None)
        if entry is not None and entry.from_policy:
            return f"{entry.name} is your organisation's server: only the administrator can remove it."
        self.servers.remove(url)
        problem = None
        try:
            self.keys.forget(url)
        except HearthError as error:
            problem = f"The server was removed, but its API key could not be: {explain(error).text()}"
        self._lists.pop(url.origin, None)
        self._asking.pop(url.origin, None)
        self.changed.emit(self.listed())
        return problem

    def entries(self) -> list[ServerEntry]:
        return self.servers.entries()

    def open_dialog(self, parent: QWidget) -> None:
        from desktop.widgets.servers_dialog import ServersDialog

        ServersDialog(self, parent).exec()

