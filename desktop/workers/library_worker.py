"""The document library's work, off the GUI thread: open it, list its folders and the files it
could not read, add a folder (indexing it), update, remove.

One worker thread runs the jobs one after another, so the window never writes the index twice at
once (and never waits on SQLite's lock). Each indexing job carries its own `threading.Event`: the
window sets it directly to cancel, since a queued call would wait behind the job it means to stop.
Progress comes from the indexing thread and is passed on at most every `PROGRESS_SECONDS`, and at
once when a file is skipped or the phase changes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.docs import FolderInfo, IndexProgress, IndexSummary, Library, Skipped
from core.errors import Cancelled, HearthError
from desktop.errors import explain

PROGRESS_SECONDS = 0.05
NOT_OPEN = "The document library is not open, so nothing was changed."


@dataclass(frozen=True)
class Listing:
    """What the Documents page shows of the library."""

    folders: list[FolderInfo]
    problems: list[Skipped]


@dataclass(frozen=True)
class IndexJob:
    """Add the folders in `add` (indexing them), then, with `update_all`, update every library folder."""

    add: tuple[str, ...] = ()
    update_all: bool = False
    cancel: threading.Event = field(default_factory=threading.Event, compare=False)


class _Throttle:
    """The indexer's progress callback, run in the worker thread."""

    def __init__(self, emit: Callable[[IndexProgress], None]):
        self.emit, self.last, self.phase = emit, 0.0, ""

    def __call__(self, progress: IndexProgress) -> None:
        now = time.monotonic()
        if progress.phase != self.phase or progress.message or now - self.last >= PROGRESS_SECONDS:
            self.phase, self.last = progress.phase, now
            self.emit(progress)


class LibraryWorker(QObject):
    opened = Signal(object)  # the Library
    unavailable = Signal(str)  # why the library cannot be used (no FTS5, a folder that cannot be made)
    listing = Signal(object)  # Listing
    progress = Signal(object)  # IndexProgress
    indexed = Signal(list)  # the sentences saying what the job did
    cancelled = Signal(str)  # a sentence: what was kept
    removed = Signal(str, int)  # folder, documents forgotten
    failed = Signal(str)

    def __init__(self, folder: str | Path | None = None, factory: Callable[..., Library] = Library):
        super().__init__()
        self._folder, self._factory = folder, factory
        self.library: Library | None = None

    @Slot()
    def open(self) -> None:
        try:
            self.library = self._factory(self._folder)
        except Exception as error:  # SearchUnavailable, FolderNotWritable, LibraryDamaged: a sentence
            self.unavailable.emit(sentence(error))
            return
        self.opened.emit(self.library)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        if self.library is None:
            return
        try:
            self.listing.emit(Listing(self.library.folders(), self.library.problems()))
        except Exception as error:
            self.failed.emit(sentence(error))

    @Slot(object)
    def index(self, job: IndexJob) -> None:
        if self.library is None:
            self.failed.emit(NOT_OPEN)
            return
        report = _Throttle(self.progress.emit)
        summaries: list[IndexSummary] = []
        try:
            for folder in job.add:
                summaries.append(self.library.add(folder, progress=report, cancel=job.cancel))
            if job.update_all:
                summaries += self.library.update(progress=report, cancel=job.cancel)
        except Cancelled as stop:
            self.cancelled.emit(str(stop))
        except Exception as error:
            self.failed.emit(sentence(error))
        else:
            self.indexed.emit([s for summary in summaries for s in summary_sentences(summary)])
        self.refresh()

    @Slot(str)
    def remove(self, folder: str) -> None:
        if self.library is None:
            self.failed.emit(NOT_OPEN)
            return
        try:
            count = self.library.remove(folder)
        except Exception as error:
            self.failed.emit(sentence(error))
        else:
            self.removed.emit(folder, count)
        self.refresh()


def sentence(error: BaseException) -> str:
    """The library's own errors are whole sentences already, with the step to take (its advice
    is about the library, where the window's general advice would talk of the models folder)."""
    return str(error) if isinstance(error, HearthError) else explain(error).text()


def summary_sentences(summary: IndexSummary) -> list[str]:
    """What indexing a folder did, without the skipped files: the page lists those apart."""
    skipped = {s.sentence() for s in summary.skipped}
    return [s for s in summary.sentences() if s not in skipped]


class LibraryThread:
    """Starts the worker in its own QThread; `shutdown` cancels `job` (the one running) and ends it."""

    def __init__(self, worker: LibraryWorker):
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("documents")
        worker.moveToThread(self.thread)
        self.thread.start()

    def shutdown(self, job: IndexJob | None = None, timeout_ms: int = 10000) -> None:
        if job is not None:
            job.cancel.set()
        self.thread.quit()
        self.thread.wait(timeout_ms)
