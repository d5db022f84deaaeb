"""The window's view of the process's egress guard (`core.system.egress`): a count for the status
bar, the list of blocked attempts, and offline mode switched as the settings say.

The guard reports a blocked attempt on whichever thread tried to connect (a download, the
local API, a library), where no widget may be touched; `EgressMonitor` turns each report into
a queued Qt signal, delivered on the GUI thread.
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Protocol

from PySide6.QtCore import QObject, Qt, Signal, Slot

from core.errors import OfflineMode


class Guard(Protocol):
    """What the window needs of `core.system.egress.EgressGuard`."""

    offline: bool
    blocked: int
    approved_servers: frozenset

    def subscribe(self, listener) -> None: ...
    def subscribe_approved(self, listener) -> None: ...
    def approved_connections(self) -> list: ...
    def refuses(self, host: str, port: int) -> bool: ...
    def summary(self) -> str: ...
    def log(self) -> list: ...
    def set_offline(self, offline: bool) -> None: ...


class EgressMonitor(QObject):
    changed = Signal()  # on the GUI thread, after each blocked attempt, approved connection or offline switch
    _reported = Signal(object)  # a BlockedAttempt or ApprovedConnection, emitted on the connecting thread

    def __init__(self, guard: Guard, parent=None):
        super().__init__(parent)
        self.guard = guard
        self._reported.connect(self._on_reported, Qt.ConnectionType.QueuedConnection)
        guard.subscribe(_Listener(self))
        guard.subscribe_approved(_Listener(self))

    def summary(self) -> str:
        """The guard's count; marked when offline mode is off, where a zero proves nothing."""
        return self.guard.summary() if self.guard.offline else f"Online · {self.guard.summary()}"

    def explanation(self) -> str:
        if self.guard.offline and self.guard.approved_servers:
            return ("Offline mode is on: Hearth refuses every connection that would leave this computer, except to "
                    f"{approved_names(self.guard)} (approved by your organisation), and counts both. "
                    "Click to see them.")
        if self.guard.offline:
            return ("Offline mode is on: Hearth refuses every connection that would leave this computer, "
                    "and counts the attempts. Click to see them.")
        return ("Offline mode is off: Hearth may connect to the internet (to download models). "
                "Turn offline mode on in Settings to refuse every connection.")

    def set_offline(self, offline: bool) -> str | None:
        """Switches the guard; returns the refusal's sentence when the policy locks it on."""
        try:
            self.guard.set_offline(offline)
        except OfflineMode as refusal:
            return str(refusal)
        finally:
            self.changed.emit()
        return None

    @Slot(object)
    def _on_reported(self, _attempt) -> None:
        self.changed.emit()


def approved_names(guard: Guard) -> str:
    """"llm.example.internal:443" or "a:443 and b:8000": the servers the policy lets through."""
    names = sorted(f"{host}:{port}" for host, port in guard.approved_servers)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class _Listener:
    """The guard keeps its listeners for the whole process (they cannot be removed), while a
    window may close: hold the monitor weakly, and say nothing once it is gone."""

    def __init__(self, monitor: EgressMonitor):
        self._monitor = weakref.ref(monitor)

    def __call__(self, attempt) -> None:
        monitor = self._monitor()
        if monitor is None:
            return
        with contextlib.suppress(RuntimeError):  # its Qt object was deleted with the window
            monitor._reported.emit(attempt)  # thread-safe: queued to the monitor's thread
