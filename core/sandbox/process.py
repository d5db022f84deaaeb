"""One worker process seen from Hearth: start it confined, hand it code, wait for its answer with
a deadline, interrupt or kill it.

A reader thread turns the worker's replies into a queue, so waiting has a timeout on every
platform (pipes have none) and a kill wakes the waiter at once (the pipe closes). The worker is
the leader of its own process group; a kill ends everything the code started too.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from core.sandbox import framing
from core.sandbox.errors import WorkerLost
from core.sandbox.launch import WorkerSettings

_CLOSED = object()  # the reply pipe closed: the worker is gone
START_TIMEOUT_S = 60.0  # a cold start in the frozen bundle, on a slow disk, imports for a while

Launcher = Callable[[list[str], dict[str, str], dict[str, Any]], subprocess.Popen]


def popen(command: list[str], env: dict[str, str], options: dict[str, Any]) -> subprocess.Popen:
    return subprocess.Popen(command, env=env, **options)


class WorkerProcess:
    def __init__(self, command: list[str], env: dict[str, str], settings: WorkerSettings,
                 launcher: Launcher = popen):
        options: dict[str, Any] = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE,
                                   "stderr": subprocess.PIPE, "cwd": settings.tmp}
        if sys.platform == "win32":
            options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        else:
            options["start_new_session"] = True
        self.settings = settings
        self.process = launcher(command, env, options)
        self._replies: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, name="sandbox-replies", daemon=True).start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def handshake(self, timeout_s: float = START_TIMEOUT_S) -> dict[str, Any]:
        """Sends the settings; returns the worker's report ({"ready": ...})."""
        self._send(self.settings.message())
        reply = self.reply(timeout_s)
        if reply is None:
            self.kill()
            raise WorkerLost("the Python worker did not start in time", None)
        return reply

    def run(self, code: str) -> None:
        self._send({"code": code})

    def reply(self, timeout_s: float | None) -> dict[str, Any] | None:
        """The next reply, or None after `timeout_s`. Raises WorkerLost when the worker is gone."""
        try:
            item = self._replies.get(timeout=timeout_s)
        except queue.Empty:
            return None
        if item is _CLOSED:
            self._replies.put(_CLOSED)  # later waiters learn it too
            raise WorkerLost(self._why_gone(), self.process.poll())
        return item

    def interrupt(self) -> None:
        """KeyboardInterrupt in the running cell (Ctrl-C; CTRL_BREAK on Windows)."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.CTRL_BREAK_EVENT if sys.platform == "win32" else signal.SIGINT)

    def kill(self) -> None:
        """Ends the worker and everything it started; returns when it is gone."""
        if sys.platform != "win32":
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(OSError):
                stream.close()

    def close(self) -> None:
        """Ends the worker: a closed pipe asks it to leave; one that does not, is killed."""
        try:
            self.process.stdin.close()
            self.process.wait(2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def _send(self, message: dict[str, Any]) -> None:
        try:
            framing.write_message(self.process.stdin, message)
        except (OSError, ValueError) as error:  # a broken pipe, or a closed one
            raise WorkerLost(self._why_gone(), self.process.poll()) from error

    def _read(self) -> None:
        try:
            while True:
                message = framing.read_message(self.process.stdout)
                if message is None:
                    break
                self._replies.put(message)
        except (OSError, ValueError, framing.FramingError):
            pass
        finally:
            self._replies.put(_CLOSED)

    def _why_gone(self) -> str:
        try:
            code = self.process.wait(5)
        except subprocess.TimeoutExpired:
            return "the Python worker stopped answering"
        detail = ""
        with contextlib.suppress(OSError, ValueError):
            detail = self.process.stderr.read(4000).decode("utf-8", "replace").strip()
        return f"the Python worker ended (exit code {code})" + (f": {detail.splitlines()[-1]}" if detail else "")
