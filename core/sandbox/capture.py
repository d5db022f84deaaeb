"""Everything a cell writes to its stdout and stderr, at the file-descriptor level: print(),
warnings, C extensions and programs the code starts all land in one pipe, in the order written.

The worker points fds 1 and 2 at the pipe once; a thread drains it into the current cell's
`CellOutput`, which keeps the first and the last `keep` bytes and counts the rest (a loop that
prints forever costs no memory). At the end of a cell the worker writes a marker no code can
guess and waits until the thread has seen it, so the output of one cell never spills into the
next.

Runs inside the worker; imports only the standard library.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import threading


class CellOutput:
    """The head and the tail of a stream of bytes, and how much was left out between them."""

    def __init__(self, keep: int):
        self.keep = keep
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        room = self.keep - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            excess = len(self.tail) - self.keep
            if excess > 0:
                self.dropped += excess
                del self.tail[:excess]

    def text(self) -> tuple[str, int]:
        """(the kept text, with a gap mark where bytes were dropped; bytes dropped)."""
        head = self.head.decode("utf-8", "replace")
        tail = self.tail.decode("utf-8", "replace")
        if self.dropped:
            return f"{head}\n[... {self.dropped} bytes of output left out ...]\n{tail}", self.dropped
        return head + tail, 0


class Capture:
    """Owns fds 1 and 2 of the worker from `start()` on."""

    def __init__(self, keep: int):
        self.keep = keep
        self._marker = b"\0hearth-cell-end-" + secrets.token_hex(16).encode() + b"\0"
        self._output = CellOutput(keep)
        self._done = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        read_end, write_end = os.pipe()
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        for stream in (sys.stdout, sys.stderr):
            stream.reconfigure(line_buffering=True, errors="backslashreplace")
        threading.Thread(target=self._drain, args=(read_end,), name="capture", daemon=True).start()

    def begin(self) -> None:
        with self._lock:
            self._output = CellOutput(self.keep)
            self._done.clear()

    def end(self, wait_s: float = 5.0) -> tuple[str, int]:
        """The cell's output; waits (a little) until everything written before now is read."""
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # the code closed or broke its own stream
                stream.flush()
        try:
            os.write(1, self._marker)
        except OSError:  # the code closed fd 1: what was read is all there is
            pass
        else:
            self._done.wait(wait_s)
        with self._lock:
            return self._output.text()

    def _drain(self, fd: int) -> None:
        pending = b""
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            pending += chunk
            while True:
                at = pending.find(self._marker)
                if at < 0:
                    break
                with self._lock:
                    self._output.feed(pending[:at])
                    self._done.set()
                pending = pending[at + len(self._marker):]
            # Hold back what could be the start of a marker cut in two by the pipe.
            safe = max(len(pending) - len(self._marker) + 1, 0)
            with self._lock:
                self._output.feed(pending[:safe])
            pending = pending[safe:]
