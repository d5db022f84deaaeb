"""Models on this machine: the public API the desktop app and the terminal use.

Everything goes through one object::

    store = ModelStore(models_dir=None, offline=None)   # defaults: HEARTH_MODELS_DIR or the
                                                         # per-user data folder; HEARTH_OFFLINE
        # keyword-only extras: endpoint= (else HF_ENDPOINT, else the hub), token= (else HF_TOKEN
        # or the saved login), retry=RetryPolicy(...), load_check=True
    store.list() -> list[ModelInfo]          # catalogue models: "installed" / "damaged" / "partial" / "available"
    store.info(model_id) -> ModelInfo
    store.path(model_id) -> Path             # folder to pass to core.load_model
    store.manifest(model_id) -> Manifest     # files, sizes, SHA-256, source commit
    store.is_downloading(model_id) -> bool   # in any process
    store.download(model_id, progress=cb, pause=event, cancel=event) -> DownloadOutcome
        # status "installed" or "paused"; call again to resume, also after a restart.
        # cancel removes the partial files and raises Cancelled.
    store.request_pause(model_id) -> bool    # pause a download running in another process
    store.import_folder(src, model_id=None, progress=cb, copy=True, cancel=event) -> ModelInfo
    store.export(model_id, dest, progress=cb, cancel=event) -> Path   # <dest>/<id>/ + manifest
    store.delete(model_id) -> int            # bytes freed
    store.verify(model_id, progress=cb) -> VerifyReport   # .ok, .problems

`cb` receives frozen `Progress` events (phase, file, bytes done/total per file and overall,
speed, ETA, a message sentence for retries) from the thread doing the work; a GUI forwards
them to its main thread. All long calls block: run them in a worker thread.

Errors are the typed ones of `core.errors` (ModelNotFound, DownloadFailed, OfflineMode,
DiskFull, Cancelled, CorruptCheckpoint, InvalidConfig, InvalidInput); `str(error)` is a sentence
for a person. No error path deletes an installed model or downloaded data, except `cancel`,
which removes the partial download it was asked to abandon.

Which model fits this machine: `core.system.hardware` (`detect_hardware`, `plan_fit`, `recommend`).
"""

from core.engine.catalogue import CATALOGUE, CatalogueEntry
from core.store.downloads import DownloadOutcome, RetryPolicy
from core.store.model_files import Manifest
from core.store.model_store import FileProblem, ModelInfo, ModelStore, VerifyReport
from core.store.progress import Progress, ProgressCallback
from core.system.environment import default_models_dir

__all__ = [
    "CATALOGUE",
    "CatalogueEntry",
    "DownloadOutcome",
    "FileProblem",
    "Manifest",
    "ModelInfo",
    "ModelStore",
    "Progress",
    "ProgressCallback",
    "RetryPolicy",
    "VerifyReport",
    "default_models_dir",
]
