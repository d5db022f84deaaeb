"""The Documents page's moving parts on the GUI thread: the library worker (which opens the
library, indexes and removes in its own thread), the page, the folder dialog, and the policy.

The window reads `library` (None until it is open, or when it cannot be) and `unavailable` (the
sentence why) to offer "Search my documents" in a chat; `changed` says when either, or the
folders, changed. When the organisation's policy names the folders the library may hold
(`documents_folders`), the page says so, the dialog opens in one of them, a folder outside is
refused with the policy's sentence, and a folder added before the policy said so is marked as not
read by the model (the library itself, made with the policy, neither searches nor updates it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from core.docs import FolderInfo, IndexProgress, Library
from desktop.file_dialogs import choose_folder
from desktop.settings import Settings
from desktop.tool_policy import adding_refusal, documents_folders, folder_refusal, folders_hint
from desktop.widgets.documents_panel import DocumentsPanel
from desktop.workers.library_worker import IndexJob, LibraryThread, LibraryWorker, Listing


class DocumentsController(QObject):
    changed = Signal()  # the library opened or cannot be used, or its folders changed
    problem = Signal(str)
    note = Signal(str)  # a short sentence for the status bar: indexing ended
    _open = Signal()
    _index = Signal(object)  # IndexJob
    _remove = Signal(str)

    def __init__(self, panel: DocumentsPanel, settings: Settings, policy, confirm: Callable[[str, str], bool],
                 dialog_parent: QWidget | None = None, folder: str | Path | None = None,
                 worker: LibraryWorker | None = None, parent: QObject | None = None):
        """`folder`: where the library keeps its index (None: HEARTH_DOCS_DIR or the user data
        folder); `confirm(question, detail)` asks the person yes or no."""
        super().__init__(parent)
        self.panel, self.settings, self.policy = panel, settings, policy
        self.confirm, self.dialog_parent = confirm, dialog_parent
        self.library: Library | None = None
        self.unavailable = ""  # why the library cannot be used, once known
        self.folders: list[FolderInfo] = []
        self.job: IndexJob | None = None
        self.worker = worker or LibraryWorker(folder, factory=lambda where: Library(where, policy=policy))
        self.thread = LibraryThread(self.worker)
        self._open.connect(self.worker.open)
        self._index.connect(self.worker.index)
        self._remove.connect(self.worker.remove)
        self.worker.opened.connect(self._opened)
        self.worker.unavailable.connect(self._unavailable)
        self.worker.listing.connect(self._listing)
        self.worker.progress.connect(self._progress)
        self.worker.indexed.connect(self._indexed)
        self.worker.cancelled.connect(self._cancelled)
        self.worker.removed.connect(self._removed)
        self.worker.failed.connect(self._failed)
        panel.add_requested.connect(self.add_folder)
        panel.update_requested.connect(self.update_all)
        panel.remove_requested.connect(self.remove)
        panel.cancel_requested.connect(self.cancel)
        panel.lock_adding(adding_refusal(policy) or "")
        panel.set_policy_hint(folders_hint(policy))
        self._open.emit()

    @property
    def busy(self) -> bool:
        return self.job is not None

    # -- the person's actions --------------------------------------------------------------
    @Slot()
    def add_folder(self) -> None:
        if self.busy or adding_refusal(self.policy):
            return
        remembered = self.settings.documents_folder
        allowed = documents_folders(self.policy)
        if allowed and (not remembered or folder_refusal(self.policy, remembered)):
            remembered = str(allowed[0])  # where the organisation lets documents in
        folder = choose_folder(self.dialog_parent, "Choose a folder of documents", remembered)
        if folder:
            # Its parent: the next folder is most likely beside this one.
            self.settings.documents_folder = str(Path(folder).parent)
            self.add(folder)

    def add(self, folder: str) -> None:
        refusal = folder_refusal(self.policy, Path(folder).expanduser().absolute())
        if refusal:
            self.problem.emit(refusal)
            return
        self._start(IndexJob(add=(folder,)), folder)

    @Slot()
    def update_all(self) -> None:
        self._start(IndexJob(update_all=True), "your folders")

    def _start(self, job: IndexJob, what: str) -> None:
        if self.busy or self.library is None:
            return
        self.job = job
        self.panel.start_indexing(what)
        self._index.emit(job)

    @Slot(str)
    def remove(self, folder: str) -> None:
        if self.busy or self.library is None:
            return
        info = next((f for f in self.folders if str(f.path) == folder), None)
        count = f"its {info.documents} document{'s' if info.documents != 1 else ''}" if info else "its documents"
        if self.confirm(f"Remove {folder} from the library?",
                        f"Hearth forgets {count}, and chats can no longer search them. The files themselves "
                        "stay where they are."):
            self._remove.emit(folder)

    @Slot()
    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel.set()  # directly: the worker is busy with the job itself

    # -- the worker's reports --------------------------------------------------------------
    @Slot(object)
    def _opened(self, library: Library) -> None:
        self.library, self.unavailable = library, ""
        self.panel.set_notice(library.notice)
        self.panel.set_usable(True)
        self.changed.emit()

    @Slot(str)
    def _unavailable(self, sentence: str) -> None:
        self.library, self.unavailable = None, sentence
        self.panel.set_notice(sentence)
        self.panel.set_usable(False)
        self.changed.emit()

    @Slot(object)
    def _listing(self, listing: Listing) -> None:
        self.folders = listing.folders
        kept_out = {str(f.path): "Your organisation's policy keeps this folder out of the library: the model does "
                                 "not read it, and Remove forgets it."
                    for f in listing.folders if folder_refusal(self.policy, f.path)}
        self.panel.set_folders(listing.folders, kept_out)
        self.panel.set_problems(listing.problems)
        self.changed.emit()

    @Slot(object)
    def _progress(self, progress: IndexProgress) -> None:
        if self.job is not None:
            self.panel.show_progress(progress)

    @Slot(list)
    def _indexed(self, sentences: list) -> None:
        self._end([*sentences])
        self.note.emit("The document library is up to date.")

    @Slot(str)
    def _cancelled(self, sentence: str) -> None:
        self._end([sentence])

    @Slot(str, int)
    def _removed(self, folder: str, count: int) -> None:
        self.panel.set_result([f"{folder} was removed from the library ({count} document{'s' if count != 1 else ''} "
                               "forgotten); the files themselves are untouched."])

    @Slot(str)
    def _failed(self, sentence: str) -> None:
        self._end([])
        self.problem.emit(sentence)

    def _end(self, sentences: list[str]) -> None:
        self.job = None
        self.panel.end_indexing()
        self.panel.set_result(sentences)

    def shutdown(self) -> None:
        """Stops the indexing (what was read is kept) and ends the library's thread."""
        self.thread.shutdown(self.job)
