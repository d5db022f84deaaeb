"""Models on the GUI side: what is installed, what fits this machine, running model jobs
(download, import, export, verify) and asking before anything is deleted. Feeds the Models,
Hardware and first-launch pages and the model switcher; tells the window which model to load.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QDialog, QInputDialog, QMessageBox, QWidget

from core.engine import catalogue
from core.errors import HearthError
from core.store.model_files import MANIFEST_NAME, CheckpointLayout, inspect_checkpoint
from core.store.model_store import ModelStore
from core.store.progress import Progress
from core.system.hardware import FitPlan, Hardware, detect_hardware, plan_fit, recommend
from desktop.errors import explain, import_problem
from desktop.file_dialogs import choose_folder
from desktop.settings import Settings
from desktop.widgets.delete_model_dialog import DeleteModelDialog
from desktop.widgets.first_launch import FirstLaunch
from desktop.widgets.format import size_text
from desktop.widgets.hardware_panel import HardwarePanel
from desktop.widgets.models_panel import ModelsPanel
from desktop.workers.background import BackgroundCall
from desktop.workers.download import ModelJobs

CONTEXT_FOR_PLANS = 8192  # the context length the fit verdicts assume


class ModelsController(QObject):
    use_requested = Signal(str)  # the person wants to chat with this installed model
    installed_changed = Signal(list)  # installed model ids
    problem = Signal(str, str)  # a sentence, and its technical details ("" if none)
    info = Signal(str)
    withdraw = Signal(str)  # words of a message that is no longer true
    job_started = Signal(str)  # model id (or the folder being imported)
    hardware_ready = Signal()  # the machine has been read and every model planned on it

    def __init__(self, store: ModelStore, panel: ModelsPanel, hardware_panel: HardwarePanel,
                 first_launch: FirstLaunch, dialog_parent: QWidget, settings: Settings, parent=None):
        super().__init__(parent)
        self.store = store
        self.settings = settings  # for the folders the file dialogs remember
        self.panel = panel
        self.hardware_panel = hardware_panel
        self.first_launch = first_launch
        self.dialog_parent = dialog_parent
        self.jobs = ModelJobs(store, self)
        self.hardware: Hardware | None = None
        self.plans: dict[str, FitPlan] = {}
        self.current: str | None = None
        self._probe: BackgroundCall | None = None
        panel.action.connect(self.on_action)
        panel.import_requested.connect(self.import_folder)
        hardware_panel.refresh_requested.connect(self.detect)
        first_launch.download_requested.connect(self.download)
        first_launch.import_requested.connect(self.import_folder)
        self.jobs.progress.connect(self.on_progress)
        self.jobs.succeeded.connect(self.on_succeeded)
        self.jobs.failed.connect(self.on_failed)
        self.jobs.cancelled.connect(self.on_cancelled)
        self.jobs.ended.connect(self.refresh)

    # -- what is there ---------------------------------------------------------------------
    def installed(self) -> list[str]:
        return [m.id for m in self.store.list() if m.status == "installed"]

    @Slot()
    def detect(self) -> None:
        """Reads the machine in the background (GPU probing may touch torch and the driver, which
        the GUI thread never does); `on_hardware` plans every catalogue model on the result."""
        if self._probe is not None and self._probe.running():
            return
        folder = self.store.models_dir if self.store.models_dir.exists() else None
        self._probe = BackgroundCall(lambda: detect_hardware(folder), self)
        self._probe.done.connect(self.on_hardware)
        self._probe.failed.connect(self._probe_failed)
        self._probe.start()

    @Slot(str)
    def _probe_failed(self, sentence: str) -> None:
        self.problem.emit(sentence, "")

    @Slot(object)
    def on_hardware(self, hardware: Hardware) -> None:
        self.hardware = hardware
        # The model in use is judged by what it already runs on, not against the memory it leaves
        # free: measured again after it loaded, its badge flipped to "Too big for this computer".
        kept = {m: p for m, p in self.plans.items() if m == self.current and p.fits}
        self.plans = {m: kept.get(m) or plan_fit(m, hardware, CONTEXT_FOR_PLANS) for m in catalogue.CATALOGUE}
        self.hardware_panel.set_hardware(hardware, self.plans)
        rec = recommend(hardware, CONTEXT_FOR_PLANS)
        size = catalogue.entry(rec.model).download_bytes if rec.model else None
        self.first_launch.set_recommendation(rec, size)
        self.refresh()
        self.hardware_ready.emit()

    def device_for(self, model_id: str) -> str:
        plan = self.plans.get(model_id)
        return plan.device if plan is not None and plan.device else "cpu"

    @Slot()
    def refresh(self, *_args) -> None:
        infos = self.store.list()
        jobs = {m.id: self.jobs.kind(m.id) for m in infos if self.jobs.is_running(m.id)}
        self.panel.set_models(infos, self.plans, jobs, self.current, str(self.store.models_dir))
        self.installed_changed.emit([m.id for m in infos if m.status == "installed"])

    def use_models_folder(self, folder: Path) -> None:
        """The models folder chosen in Settings: used now, or from the next start while a download
        or copy writes into the old one (switching under it would split a model in two)."""
        if folder == self.store.models_dir:
            return
        if self.jobs.any_running():
            self.info.emit("The new models folder is used once the running downloads and copies end, "
                           "from the next start of Hearth.")
            return
        self.store.models_dir = folder
        self.refresh()
        self.info.emit(f"Models are now kept in {folder}.")

    def set_current(self, model_id: str | None) -> None:
        self.current = model_id
        self.refresh()

    # -- actions ---------------------------------------------------------------------------
    @Slot(str, str)
    def on_action(self, action: str, model_id: str) -> None:
        match action:
            case "download":
                self.download(model_id)
            case "pause":
                self.jobs.pause(model_id)
            case "cancel":
                self.cancel(model_id)
            case "use":
                self.use_requested.emit(model_id)
            case "export":
                self.export(model_id)
            case "delete":
                self.delete(model_id)
            case "verify":
                self.jobs.verify(model_id)
                self.refresh()

    @Slot(str)
    def download(self, model_id: str) -> None:
        if (doubt := self.download_doubt(model_id)) and not self.confirm(f"Download {model_id} anyway?", doubt):
            return
        self.jobs.download(model_id)
        self.job_started.emit(model_id)
        self.refresh()

    def download_doubt(self, model_id: str) -> str | None:
        """Why downloading `model_id` may be a mistake, with the numbers (None: no reason known):
        it is too big to run here, or the disk lacks room for it."""
        reasons = []
        plan = self.plans.get(model_id)
        if plan is not None and not plan.fits:
            reasons.append(f"It is too big for this computer: {plan.reason}")
        size = catalogue.entry(model_id).download_bytes
        free = self.hardware.disk_free_bytes if self.hardware is not None else None
        if free is not None and free < size:
            reasons.append(f"It takes {size_text(size)} of disk space, and only {size_text(free)} is free in "
                           f"{self.store.models_dir}.")
        return " ".join(reasons) or None

    def cancel(self, model_id: str) -> None:
        self.withdraw.emit(f"The download of {model_id} is paused")  # there is no Resume to press any more
        if self.jobs.is_running(model_id):
            self.jobs.cancel(model_id)
            return
        # A paused download: cancelling it throws away what was fetched, so ask first.
        if self.confirm(f"Throw away the partly downloaded {model_id}?",
                        "The downloaded part is deleted; downloading again starts from the beginning."):
            self._delete_now(model_id)

    @Slot()
    def import_folder(self) -> None:
        folder = choose_folder(self.dialog_parent, "Choose the folder holding the model files",
                               self.settings.import_folder)
        if not folder:
            return
        # Its parent: the next model is most likely found beside this one (on the same drive).
        self.settings.import_folder = str(Path(folder).parent)
        try:
            # Before any question: a folder without a whole model is said at once, not after
            # the person has chosen how to import it.
            layout = inspect_checkpoint(Path(folder))
        except (HearthError, OSError) as error:
            problem = import_problem(error)
            self.problem.emit(problem.text(), problem.details)
            return
        model_id = None
        if self._needs_naming(Path(folder), layout):
            model_id = self.choose_model(folder)
            if model_id is None:
                return
        copy = self.choose_copy(folder)
        if copy is None:
            return
        self.jobs.import_folder(folder, model_id=model_id, copy=copy)
        self.job_started.emit(model_id or folder)
        self.info.emit(f"{'Copying' if copy else 'Checking'} the model in {folder}…")

    def choose_copy(self, folder: str) -> bool | None:
        """Copy the files into the models folder (safe for a USB drive that will be unplugged),
        or use them where they are (no second copy of many gigabytes)? None: the person cancelled."""
        box = QMessageBox(QMessageBox.Icon.Question, "Hearth", f"Import the model in {folder}",
                          QMessageBox.StandardButton.Cancel, self.dialog_parent)
        box.setInformativeText("Copy it if the folder is on a drive you will unplug. Use it where it is to "
                               "save disk space; then keep the folder where it is.")
        copy = box.addButton("Copy into Hearth", QMessageBox.ButtonRole.AcceptRole)
        in_place = box.addButton("Use it where it is", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(copy)
        box.exec()
        clicked = box.clickedButton()
        return True if clicked is copy else False if clicked is in_place else None

    @staticmethod
    def _needs_naming(folder: Path, layout: CheckpointLayout) -> bool:
        """True when the folder holds a model whose config names no catalogue model (a fine-tune,
        a resized test model) and no manifest says which it is."""
        if (folder / MANIFEST_NAME).is_file():
            return False
        return catalogue.entry_for_config(layout.config) is None

    def choose_model(self, folder: str) -> str | None:
        ids = list(catalogue.CATALOGUE)
        choice, ok = QInputDialog.getItem(
            self.dialog_parent, "Which model is this?",
            f"Hearth cannot tell from its files which model {folder} holds. Which one is it?", ids, 0, False)
        return choice if ok else None

    def export(self, model_id: str) -> None:
        folder = choose_folder(self.dialog_parent, f"Choose where to export {model_id}",
                               self.settings.model_export_folder)
        if folder:
            self.settings.model_export_folder = folder
            self.jobs.export(model_id, folder)
            self.refresh()

    def delete(self, model_id: str) -> None:
        info = self.store.info(model_id)
        folder = info.path or self.store.partial_dir(model_id)  # a paused download has no model folder yet
        if info.in_place:
            detail = "Hearth forgets it; the files in this folder stay where they are."
        else:
            detail = f"This frees {size_text(info.bytes_on_disk)}. To use it again you must download or import it."
        if self.ask_delete(model_id, str(folder), detail):
            if model_id == self.current:
                self.use_requested.emit("")  # unload first: the files are about to go
            self._delete_now(model_id)

    def _delete_now(self, model_id: str) -> None:
        try:
            self.store.delete(model_id)
        except Exception as error:
            problem = explain(error)
            self.problem.emit(problem.text(), problem.details)
        self.refresh()

    def ask_delete(self, model_id: str, folder: str, detail: str) -> bool:
        return DeleteModelDialog(model_id, folder, detail, self.dialog_parent).exec() == QDialog.DialogCode.Accepted

    def confirm(self, question: str, detail: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "Hearth", question,
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self.dialog_parent)
        box.setInformativeText(detail)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    # -- job reports -----------------------------------------------------------------------
    @Slot(object)
    def on_progress(self, progress: Progress) -> None:
        self.panel.show_progress(progress)

    @Slot(str, str)
    def on_succeeded(self, model_id: str, outcome: str) -> None:
        messages = {"installed": f"{model_id} is installed and ready.",
                    "paused": f"The download of {model_id} is paused. Press Resume to go on.",
                    "imported": f"{model_id} was imported and is ready.",
                    "exported": f"{model_id} was exported.",
                    "verified": f"Every file of {model_id} is intact."}
        self.info.emit(messages.get(outcome, f"{model_id}: {outcome}"))
        if outcome in ("installed", "imported") and self.current is None:
            self.use_requested.emit(model_id)

    @Slot(str, str, str)
    def on_failed(self, _model_id: str, sentence: str, details: str) -> None:
        self.problem.emit(sentence, details)

    @Slot(str)
    def on_cancelled(self, model_id: str) -> None:
        self.info.emit(f"Stopped: {model_id}.")

    def shutdown(self) -> None:
        self.jobs.shutdown()
        if self._probe is not None:
            self._probe.wait()
