"""Long model jobs off the GUI thread: download (with pause, resume, cancel), import, export,
verify. Each job is a QObject moved to its own QThread; `ModelJobs` (GUI thread) starts them,
relays their signals and forgets them when they end.

The core reports progress through a plain callback, called in the job's thread; the job turns
each report into a queued signal, so the GUI receives `Progress` objects on its own thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.store.model_store import ModelStore
from core.store.progress import Progress
from desktop.errors import explain, import_problem


@dataclass
class _Running:
    job: ModelJob
    thread: QThread


class ModelJob(QObject):
    progress = Signal(object)  # core.store.progress.Progress
    succeeded = Signal(str, str)  # model id, outcome: "installed", "paused", "imported", "exported", "verified"
    failed = Signal(str, str, str)  # model id, sentence, its technical details ("" if none)
    cancelled = Signal(str)
    ended = Signal(str)  # model id; always last

    def __init__(self, kind: str, model_id: str, work: Callable[[ModelJob], str]):
        super().__init__()
        self.kind = kind
        self.model_id = model_id
        self.pause_event = threading.Event()
        self.cancel_event = threading.Event()
        self._work = work

    def report(self, progress: Progress) -> None:
        """The core's progress callback; runs in the job's thread."""
        self.progress.emit(progress)

    @Slot()
    def run(self) -> None:
        try:
            outcome = self._work(self)
        except Exception as error:  # every failure becomes a sentence
            problem = import_problem(error) if self.kind == "import" else explain(error)
            if problem.cancelled or self.cancel_event.is_set():
                self.cancelled.emit(self.model_id)
            else:
                self.failed.emit(self.model_id, problem.text(), problem.details)
        else:
            self.succeeded.emit(self.model_id, outcome)
        self.ended.emit(self.model_id)


class ModelJobs(QObject):
    """The running jobs, at most one per model. Signals carry the model id."""

    progress = Signal(object)
    succeeded = Signal(str, str)
    failed = Signal(str, str, str)
    cancelled = Signal(str)
    ended = Signal(str)

    def __init__(self, store: ModelStore, parent=None):
        super().__init__(parent)
        self.store = store
        self._running: dict[str, _Running] = {}

    def any_running(self) -> bool:
        return bool(self._running)

    def is_running(self, model_id: str) -> bool:
        return model_id in self._running

    def kind(self, model_id: str) -> str | None:
        running = self._running.get(model_id)
        return running.job.kind if running else None

    def download(self, model_id: str) -> ModelJob:
        def work(job: ModelJob) -> str:
            outcome = self.store.download(model_id, progress=job.report, pause=job.pause_event,
                                          cancel=job.cancel_event)
            return outcome.status

        return self._start("download", model_id, work)

    def import_folder(self, folder: str, model_id: str | None = None, copy: bool = True) -> ModelJob:
        label = model_id or folder  # the id is known only once the folder has been read

        def work(job: ModelJob) -> str:
            info = self.store.import_folder(folder, model_id=model_id, progress=job.report, copy=copy,
                                            cancel=job.cancel_event)
            job.model_id = info.id
            return "imported"

        return self._start("import", label, work)

    def export(self, model_id: str, dest: str) -> ModelJob:
        def work(job: ModelJob) -> str:
            self.store.export(model_id, dest, progress=job.report, cancel=job.cancel_event)
            return "exported"

        return self._start("export", model_id, work)

    def verify(self, model_id: str) -> ModelJob:
        def work(job: ModelJob) -> str:
            report = self.store.verify(model_id, progress=job.report)
            if not report.ok:
                from core.engine.parts import file_part
                from core.errors import CorruptCheckpoint

                parts = ", ".join(f"{file_part(p.path)} ({p.problem})" for p in report.problems)
                names = ", ".join(f"{p.path} ({p.problem})" for p in report.problems)
                raise CorruptCheckpoint(f"{model_id} is damaged: {parts}.", details=names)
            return "verified"

        return self._start("verify", model_id, work)

    def pause(self, model_id: str) -> None:
        if running := self._running.get(model_id):
            running.job.pause_event.set()

    def cancel(self, model_id: str) -> None:
        if running := self._running.get(model_id):
            running.job.cancel_event.set()

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Pauses downloads (kept for resume) and cancels the other jobs, then waits for them."""
        for running in list(self._running.values()):
            (running.job.pause_event if running.job.kind == "download" else running.job.cancel_event).set()
        for running in list(self._running.values()):
            running.thread.quit()
            running.thread.wait(timeout_ms)
        self._running.clear()

    def _start(self, kind: str, model_id: str, work: Callable[[ModelJob], str]) -> ModelJob:
        if model_id in self._running:
            return self._running[model_id].job
        job = ModelJob(kind, model_id, work)
        thread = QThread(self)
        thread.setObjectName(f"{kind}:{model_id}")
        job.moveToThread(thread)
        # Job -> ModelJobs: ModelJobs lives in the GUI thread, so these are queued to it.
        job.progress.connect(self.progress)
        job.succeeded.connect(self.succeeded)
        job.failed.connect(self.failed)
        job.cancelled.connect(self.cancelled)
        job.ended.connect(self._job_ended)
        thread.started.connect(job.run)
        self._running[model_id] = _Running(job, thread)
        thread.start()
        return job

    @Slot(str)
    def _job_ended(self, _model_id: str) -> None:
        job = self.sender()
        key = next((k for k, r in self._running.items() if r.job is job), None)
        if key is None:
            return
        running = self._running.pop(key)
        running.thread.quit()
        running.thread.wait()
        running.job.deleteLater()
        running.thread.deleteLater()
        self.ended.emit(key)
