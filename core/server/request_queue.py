"""Who gets the model next: `Admission` (one generation at a time, a bounded first-come-first-
served queue behind it) and `ClientWatch` (notices a client that hung up, so its place in the
queue or its running generation is given up). Used by `core.server.http`; no HTTP here.
"""

from __future__ import annotations

import select
import socket
import threading
from collections import deque

CLIENT_POLL_SECONDS = 0.1  # how often a waiting or generating request checks that its client is still there


class QueueFull(Exception):
    """Every place in the queue is taken (the server answers 429)."""


class ShuttingDown(Exception):
    """The server is stopping and takes no more work (503)."""


class Admission:
    """One generation at a time; up to `max_waiting` more wait their turn, first come first
    served. A waiter whose `cancel` is set (its client left) gives up its place."""

    def __init__(self, max_waiting: int):
        self.max_waiting = max_waiting
        self._lock = threading.Lock()
        self._busy = False
        self._closed = False
        self._waiters: deque[threading.Event] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def enter(self, cancel: threading.Event) -> bool:
        """Waits for the turn; True once it is ours (call `leave` after), False if cancelled.
        Raises QueueFull or ShuttingDown."""
        with self._lock:
            if self._closed:
                raise ShuttingDown
            if not self._busy:
                self._busy = True
                return True
            if len(self._waiters) >= self.max_waiting:
                raise QueueFull
            turn = threading.Event()
            self._waiters.append(turn)
        while not turn.wait(CLIENT_POLL_SECONDS):
            if cancel.is_set() or self._closed:
                with self._lock:
                    if not turn.is_set():  # not handed the turn in the meantime
                        self._waiters.remove(turn)
                        if self._closed:
                            raise ShuttingDown
                        return False
                break
        if self._closed or cancel.is_set():
            self.leave()
            if self._closed:
                raise ShuttingDown
            return False
        return True

    def leave(self) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().set()  # handed straight over: busy stays True
            else:
                self._busy = False

    def close(self) -> None:
        with self._lock:
            self._closed = True


class ClientWatch:
    """Sets `cancel` when the client closes its connection (or the server stops), so a request
    still waiting or generating stops within `CLIENT_POLL_SECONDS` even while nothing is written."""

    def __init__(self, connection: socket.socket, cancel: threading.Event, stopping: threading.Event):
        self.connection, self.cancel, self.stopping = connection, cancel, stopping
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="api-client-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.wait(CLIENT_POLL_SECONDS):
            if self.stopping.is_set() or self._closed():
                self.cancel.set()
                return

    def _closed(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            # Readable with nothing to read is the client's FIN; bytes would be a next request.
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
