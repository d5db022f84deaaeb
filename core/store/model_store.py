"""The models directory: where models live, what is installed, partial or available, and
deleting and verifying installed models. Downloads (`core.store.downloads`) and import/export
(`core.store.transfer`) are reached through the same `ModelStore` object.

Layout of the models directory::

    <models_dir>/<id>/                  an installed model: its files + hearth-manifest.json
    <models_dir>/<id>/hearth-manifest.json  alone, with "location" set: registered in place
    <models_dir>/.downloads/<id>/       a download in progress (resumable): state.json, *.part
    <models_dir>/.downloads/<id>.lock   held by the process that is downloading it
    <models_dir>/.incoming/<id>/        an import being copied

A model folder appears under `<models_dir>/<id>` only once every file is present and verified:
downloads and imports finish in a staging folder and are moved into place by one rename.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from core.engine import catalogue
from core.errors import CorruptCheckpoint, FolderNotWritable, InvalidInput, ModelNotFound
from core.store import download_state, downloads, transfer
from core.store.disk import check_writable, not_writable
from core.store.downloads import DownloadOutcome, RetryPolicy
from core.store.model_files import MANIFEST_NAME, Manifest, sha256_file
from core.store.progress import ProgressCallback, ProgressMeter
from core.store.records import FileProblem, ModelInfo, StoreView, VerifyReport  # noqa: F401  (re-exported)
from core.system.environment import default_models_dir, offline_from_env
from core.system.policy import Policy
from core.system.policy_file import load_policy

DEFAULT_ENDPOINT = "https://huggingface.co"


def folder_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


class ModelStore:
    """Everything about models on this machine. Thread-safe for one operation per model at a time."""

    def __init__(
        self,
        models_dir: str | os.PathLike | None = None,
        offline: bool | None = None,
        *,
        endpoint: str | None = None,
        token: str | None = None,
        retry: RetryPolicy | None = None,
        load_check: bool = True,
        policy: Policy | None = None,
    ):
        # The organisation's policy (`load_policy()` unless given) outranks the arguments: a
        # fixed models folder replaces `models_dir`, forced offline mode replaces `offline`.
        self.policy = policy if policy is not None else load_policy()
        self.models_dir = self.policy.effective_models_dir(
            Path(models_dir).expanduser() if models_dir is not None else default_models_dir())
        self.offline = self.policy.effective_offline(offline_from_env() if offline is None else offline)
        # Read here, not when huggingface_hub is imported, so a mirror set in settings or the
        # environment applies; an empty HF_ENDPOINT means the hub itself, not "no address".
        self.endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self.token = token
        self.retry = retry or RetryPolicy()
        self.load_check = load_check

    # -- layout --------------------------------------------------------------------------
    def model_dir(self, model_id: str) -> Path:
        return self.models_dir / catalogue.entry(model_id).id

    def partial_dir(self, model_id: str) -> Path:
        return download_state.partial_dir(self.models_dir, catalogue.entry(model_id).id)

    def is_installed(self, model_id: str) -> bool:
        return (self.model_dir(model_id) / MANIFEST_NAME).is_file()

    def manifest(self, model_id: str) -> Manifest:
        if not self.is_installed(model_id):
            raise ModelNotFound(f"{model_id} is not installed. Download or import it first.")
        try:
            return Manifest.read(self.model_dir(model_id))
        except CorruptCheckpoint as damage:
            raise CorruptCheckpoint(f"{damage} Delete {model_id} (Models page, or `hearth models delete "
                                    f"{model_id}`), then download or import it again.") from None

    def path(self, model_id: str) -> Path:
        """The folder holding an installed model's files (outside the models dir if registered in place)."""
        manifest = self.manifest(model_id)
        return Path(manifest.location) if manifest.location else self.model_dir(model_id)

    # -- listing -------------------------------------------------------------------------
    def info(self, model_id: str) -> ModelInfo:
        e = catalogue.entry(model_id)
        common = dict(id=e.id, repo=e.repo, description=e.description)
        running = download_state.is_downloading(self.models_dir, model_id)
        if self.is_installed(model_id):
            try:
                m = Manifest.read(self.model_dir(model_id))
            except CorruptCheckpoint as damage:
                return ModelInfo(status="damaged", path=self.model_dir(model_id), bytes_on_disk=0,
                                 total_bytes=e.download_bytes, downloading=running, problem=str(damage), **common)
            return ModelInfo(
                status="installed", path=self.path(model_id), bytes_on_disk=m.total_bytes,
                total_bytes=m.total_bytes, in_place=m.location is not None, downloading=running, **common,
            )
        partial = self.partial_dir(model_id)
        if partial.is_dir():
            state = download_state.read_state(partial)
            total = sum(f.size for f in state.files) if state else e.download_bytes
            return ModelInfo(
                status="partial", path=None, bytes_on_disk=folder_bytes(partial), total_bytes=total,
                downloading=running, **common,
            )
        return ModelInfo(
            status="available", path=None, bytes_on_disk=0, total_bytes=e.download_bytes, **common
        )

    def list(self) -> list[ModelInfo]:
        return [self.info(model_id) for model_id in catalogue.CATALOGUE]

    # -- delete and verify ---------------------------------------------------------------
    def delete(self, model_id: str) -> int:
        """Removes an installed model and any partial download of it; returns the bytes freed.

        A model registered in place keeps its files where they are (they were never ours):
        only the registration goes, and 0 bytes are reported. A model whose manifest is
        damaged is removed as well: its folder under the models folder is ours either way.
        """
        if self.is_downloading(model_id):
            raise InvalidInput(f"{model_id} is being downloaded right now. Pause or cancel the download first.")
        freed = 0
        partial = self.partial_dir(model_id)
        folder = self.model_dir(model_id)
        if not partial.is_dir() and not folder.is_dir():
            raise ModelNotFound(f"{model_id} is not installed, so there is nothing to delete.")
        try:
            if partial.is_dir():
                freed += folder_bytes(partial)
                shutil.rmtree(partial)
            if folder.is_dir():
                if not self._registered_in_place(folder):
                    freed += folder_bytes(folder)
                shutil.rmtree(folder)
        except OSError as error:
            raise FolderNotWritable(f"{model_id} cannot be deleted from {self.models_dir}: {not_writable(error)}.") \
                from None
        return freed

    @staticmethod
    def _registered_in_place(folder: Path) -> bool:
        if not (folder / MANIFEST_NAME).is_file():
            return False
        try:
            return Manifest.read(folder).location is not None
        except CorruptCheckpoint:
            return False

    def verify(self, model_id: str, progress: ProgressCallback | None = None) -> VerifyReport:
        """Re-reads every file of an installed model and checks its size and SHA-256 against the manifest."""
        manifest = self.manifest(model_id)
        root = self.path(model_id)
        meter = ProgressMeter(model_id, manifest.total_bytes, progress)
        problems = []
        for record in manifest.files:
            path = root / record.path
            if not path.is_file():
                problems.append(FileProblem(record.path, "missing"))
                meter.advance(record.size)
                continue
            if path.stat().st_size != record.size:
                problems.append(FileProblem(record.path, "wrong size"))
                meter.advance(record.size)
                continue
            meter.start_file(record.path, record.size, phase="verifying")
            try:
                if sha256_file(path, meter.advance) != record.sha256:
                    problems.append(FileProblem(record.path, "wrong checksum"))
            except OSError:  # not allowed, or the disk failed: a problem of this file, not a crash
                problems.append(FileProblem(record.path, "cannot be read"))
        meter.emit(force=True, phase="done")
        return VerifyReport(model_id, len(manifest.files), tuple(problems))

    # -- work delegated to the download and transfer modules -----------------------------
    def download(self, model_id: str, progress=None, pause=None, cancel=None) -> DownloadOutcome:
        """Downloads or resumes; returns when installed or paused. See `core.store.downloads.download`."""
        return downloads.download(self, model_id, progress=progress, pause=pause, cancel=cancel)

    def request_pause(self, model_id: str) -> bool:
        """Asks a download running in any process to pause; False if none is running."""
        return download_state.request_pause(self.models_dir, model_id)

    def is_downloading(self, model_id: str) -> bool:
        return download_state.is_downloading(self.models_dir, model_id)

    def import_folder(self, src, model_id=None, progress=None, copy=True, cancel=None) -> ModelInfo:
        """Installs a model from a folder. See `core.store.transfer.import_folder`."""
        check_writable(self.models_dir, f"Importing {model_id or 'a model'}")
        return transfer.import_folder(
            self, src, model_id=model_id, progress=progress, copy=copy, cancel=cancel
        )

    def export(self, model_id: str, dest, progress=None, cancel=None) -> Path:
        """Writes `<dest>/<id>/` with a manifest. See `core.store.transfer.export`."""
        return transfer.export(self, model_id, dest, progress=progress, cancel=cancel)
