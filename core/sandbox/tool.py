"""gpt-oss's `python` tool for one chat: a stateful notebook in a worker process that cannot
reach the network.

    tool = PythonTool(scratch=chat_folder)     # or None: a temporary folder, removed on close
    tool.start() -> Isolation                  # optional: starts the worker now, says what holds;
                                               # SandboxUnavailable where nothing can isolate it
    tool.call(code) -> str                     # the text the model reads back; never raises
    tool.stop()                                # from another thread (Stop in the window)
    tool.close()
    probe() -> Isolation                       # for the Hardware page, without a chat

`call` answers as the reference tool does (result.py) and, where the reference has no words, in a
sentence: the time limit (the worker is killed and a fresh one started on the next call), a Stop
(KeyboardInterrupt in the cell; killed after `STOP_GRACE_S` if it does not end), a worker that
died. A worker that cannot be isolated never runs code: the call answers that Python is not
available. Calls are served one at a time; `stop` and `close` may come from any thread.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

from core.sandbox import platforms, result
from core.sandbox.errors import SandboxUnavailable, WorkerLost
from core.sandbox.isolation import Isolation
from core.sandbox.launch import WorkerSettings
from core.sandbox.limits import SandboxLimits
from core.sandbox.process import WorkerProcess

STOP_GRACE_S = 2.0  # after a Stop, how long the cell has to end by KeyboardInterrupt before a kill
_POLL_S = 0.05


class PythonTool:
    def __init__(self, scratch: Path | None = None, limits: SandboxLimits | None = None, mode: str = "auto", *,
                 seccomp: bool = True, landlock: bool = True):
        """`mode` (Linux): "auto" (a namespace where the system allows one, else the seccomp filter),
        "namespace" or "seccomp" (forced). `seccomp` and `landlock` turn those layers off, for the
        tests that show what each one alone holds back."""
        self.limits = limits or SandboxLimits()
        self._folder = Path(tempfile.mkdtemp(prefix="hearth-python-"))
        self.scratch = Path(scratch) if scratch is not None else self._folder / "data"
        self.scratch.mkdir(parents=True, exist_ok=True)
        self._tmp = self._folder / "tmp"
        self._tmp.mkdir()
        self._settings = WorkerSettings.of(self.scratch.resolve(), self._tmp.resolve(), self.limits, mode,
                                           seccomp=seccomp, landlock=landlock)
        self.isolation: Isolation | None = None
        self._worker: WorkerProcess | None = None
        self._plan: platforms.Plan | None = None
        self._calls = threading.Lock()  # one call at a time
        self._state = threading.Lock()  # guards _worker, _stopping, _closed
        self._stopping: float | None = None  # when Stop was asked during the running call
        self._running = False
        self._closed = False

    # -- the tool --------------------------------------------------------------------------
    def start(self) -> Isolation:
        """Starts the worker (if it is not running) and says what isolates it."""
        with self._state:
            if self._closed:
                raise SandboxUnavailable("This Python session was closed.")
            if self._worker is None:
                self._worker = self._start_worker()
            assert self.isolation is not None
            return self.isolation

    def call(self, code: str) -> str:
        with self._calls:
            try:
                self.start()
            except SandboxUnavailable as why:
                return result.unavailable(str(why))
            with self._state:
                worker, self._stopping, self._running = self._worker, None, True
            try:
                return self._run(worker, code)
            finally:
                with self._state:
                    self._running = False

    def stop(self) -> None:
        """Stops the running call, if any (KeyboardInterrupt first, so the variables are kept)."""
        with self._state:
            if not self._running or self._worker is None or self._stopping is not None:
                return
            self._stopping = time.monotonic()
            worker = self._worker
        worker.interrupt()

    def close(self) -> None:
        with self._state:
            self._closed = True
            worker, self._worker = self._worker, None
            if self._running and self._stopping is None:
                self._stopping = time.monotonic()  # the running call answers "stopped"
        if worker is not None:
            worker.close()
        with self._calls:  # a call still running has returned: its worker is gone
            # The session's own folder (its temporary files, and the scratch folder when none was
            # given); a scratch folder given by the chat lives elsewhere and stays.
            shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> PythonTool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- inside ----------------------------------------------------------------------------
    def _run(self, worker: WorkerProcess, code: str) -> str:
        deadline = time.monotonic() + self.limits.timeout_s
        try:
            worker.run(code)
            while True:
                reply = worker.reply(_POLL_S)
                if reply is not None:
                    return result.cell_text(reply["output"], reply.get("value"), reply.get("error"),
                                            self.limits.output_chars)
                now = time.monotonic()
                stopping = self._stopping
                if stopping is not None and now - stopping > STOP_GRACE_S:
                    self._discard(worker)
                    return result.stopped()
                if now > deadline:
                    self._discard(worker)
                    return result.timed_out(self.limits)
        except WorkerLost as lost:
            self._discard(worker)
            return result.stopped() if self._stopping is not None else result.worker_died(lost.exit_code)

    def _discard(self, worker: WorkerProcess) -> None:
        """Kills `worker`; the next call starts a fresh one."""
        worker.kill()
        with self._state:
            if self._worker is worker:
                self._worker = None

    def _start_worker(self) -> WorkerProcess:
        settings = self._settings
        for _ in range(2):  # a half-made namespace asks for a second worker with the seccomp filter
            try:
                worker = self._launch(settings)
            except OSError as error:
                raise SandboxUnavailable(f"The Python worker could not be started: {error}.") from error
            try:
                report = worker.handshake()
            except WorkerLost as lost:
                worker.kill()
                raise SandboxUnavailable(f"The Python worker could not start: {lost}.") from lost
            if report.get("ready"):
                plan = self._plan
                self.isolation = Isolation.from_report(report, plan.kind, plan.layers, plan.tested)
                return worker
            worker.kill()
            retry = report.get("retry_with")
            if not retry:
                raise SandboxUnavailable(report.get("error") or "The Python worker could not isolate itself.")
            settings = self._settings = WorkerSettings(**{**settings.message(), "mode": retry})
        raise SandboxUnavailable("The Python worker could not isolate itself.")

    def _launch(self, settings: WorkerSettings) -> WorkerProcess:
        if self._plan is None:
            self._plan = platforms.plan(self.limits, self.scratch, self._tmp)
        return platforms.start(self._plan, settings, self._tmp)


def probe(limits: SandboxLimits | None = None) -> Isolation:
    """What keeps Python off the network on this computer, found by starting a throw-away worker
    (a tenth of a second); for the Hardware page. SandboxUnavailable where nothing can."""
    with PythonTool(limits=limits) as tool:
        return tool.start()
