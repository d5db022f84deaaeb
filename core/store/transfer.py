"""Moving models between machines with no network: import from a folder, export to one.

`import_folder(store, src, model_id=None, copy=True)` accepts either published format: the
repository root (config.json, shard index, shards, tokenizer files) or OpenAI's own layout
(`original/` folder, or a folder holding its files). It checks the structure, checks sizes and
SHA-256 against `hearth-manifest.json` when the folder has one (an export from another machine),
copies into `<models_dir>/.incoming/<id>/` with progress, load-checks, and renames into place.
With `copy=False` the files stay where they are and only a registration is written.

`export(store, model_id, dest)` writes `<dest>/<id>/` with every file and a manifest (catalogue
id, repository, commit, format, files with sizes and SHA-256), built in `<dest>/<id>.partial/`
and renamed when complete, so a half-written export is never mistaken for a whole one.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import threading
from pathlib import Path

from core.engine import catalogue
from core.engine.parts import file_part, incomplete
from core.errors import (
    Cancelled,
    CorruptCheckpoint,
    DiskFull,
    FileNotReadable,
    FolderNotWritable,
    InvalidInput,
    ModelNotFound,
    why_unreadable,
)
from core.store.disk import CHUNK, check_space, disk_full, fresh_staging, not_writable
from core.store.model_files import (
    MANIFEST_NAME,
    FileRecord,
    Manifest,
    inspect_checkpoint,
    load_check,
    sha256_file,
)
from core.store.progress import ProgressCallback, ProgressMeter
from core.store.records import ModelInfo, StoreView


def import_folder(
    store: StoreView,
    src: str | os.PathLike,
    model_id: str | None = None,
    progress: ProgressCallback | None = None,
    copy: bool = True,
    cancel: threading.Event | None = None,
) -> ModelInfo:
    """Installs the model held in `src`; returns its `ModelInfo`. Never touches the network.

    Raises ModelNotFound / InvalidConfig / CorruptCheckpoint when the folder does not hold a
    whole, undamaged model, InvalidInput when the model cannot be identified or is already
    installed, DiskFull, Cancelled.
    """
    given = Path(src).expanduser()
    try:
        src = given.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a link loop, before Python 3.13
        raise ModelNotFound(f"The folder {given} cannot be opened: it is a link that leads back to itself.") \
            from None
    try:
        return _import(store, src, model_id, progress, copy, cancel)
    except OSError as error:
        raise _os_failure(error, store.models_dir, "the model was not imported") from None


def _import(store: StoreView, src: Path, model_id: str | None, progress, copy: bool,
            cancel: threading.Event | None) -> ModelInfo:
    layout = inspect_checkpoint(src)
    source_manifest = Manifest.read(src) if (src / MANIFEST_NAME).is_file() else None
    model_id = _identify(model_id, source_manifest, layout.config, src)
    if store.is_installed(model_id):
        if store.info(model_id).status == "damaged":
            raise InvalidInput(f"{model_id} is installed but damaged (its list of files cannot be read). Delete it "
                               "first, then import it again.")
        raise InvalidInput(f"{model_id} is already installed. Delete it first to import another copy.")
    expected = {f.path: f for f in source_manifest.files} if source_manifest else {}
    paths = list(expected) if expected else list(layout.files)
    for path in paths:
        if not (src / path).is_file():
            raise incomplete(ModelNotFound, src, f"{file_part(path)} is missing", f"{path} is missing")
        if path in expected and (src / path).stat().st_size != expected[path].size:
            raise incomplete(CorruptCheckpoint, src, f"{file_part(path)} is damaged (its size is not the one "
                             "recorded beside it)", f"{path}: size differs from {MANIFEST_NAME}")
    total = sum((src / p).stat().st_size for p in paths)
    meter = ProgressMeter(model_id, total, progress)
    cancel = cancel or threading.Event()
    entry = catalogue.entry(model_id)
    repo = source_manifest.repo if source_manifest else entry.repo
    commit = source_manifest.commit if source_manifest else None

    if not copy:
        records = [_hash_checked(src / p, p, expected.get(p), meter, cancel) for p in paths]
        if store.load_check:
            load_check(src)
        folder = store.model_dir(model_id)
        folder.mkdir(parents=True, exist_ok=True)
        Manifest(model_id, repo, commit, layout.format, tuple(records), location=str(src)).write(folder)
        meter.emit(force=True, phase="done")
        return store.info(model_id)

    staging = fresh_staging(store.models_dir / ".incoming" / model_id)
    try:
        check_space(store.models_dir, total, "Copying the model", "Free some space or choose another models folder.")
        records = []
        for p in paths:
            meter.start_file(p, (src / p).stat().st_size, phase="copying")
            sha = copy_hashing(src / p, staging / p, meter, cancel)
            _compare(p, sha, expected.get(p), src)
            records.append(FileRecord(p, (staging / p).stat().st_size, sha))
        meter.emit(force=True, phase="verifying")
        inspect_checkpoint(staging)
        Manifest(model_id, repo, commit, layout.format, tuple(records)).write(staging)
        if store.load_check:
            load_check(staging)
        os.replace(staging, store.model_dir(model_id))
    except BaseException:
        # The source folder is untouched; only our own half-made copy goes.
        shutil.rmtree(staging, ignore_errors=True)
        raise
    meter.emit(force=True, phase="done")
    return store.info(model_id)


def export(
    store: StoreView,
    model_id: str,
    dest: str | os.PathLike,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Copies an installed model to `<dest>/<id>/` with a manifest; returns that folder.

    Each file is re-hashed while copied and compared with the installed manifest, so a damaged
    installed file is caught here (CorruptCheckpoint) instead of on the other machine.
    """
    try:
        return _export(store, model_id, Path(dest).expanduser(), progress, cancel)
    except OSError as error:
        raise _os_failure(error, Path(dest).expanduser(), "the export was stopped") from None


def _export(store: StoreView, model_id: str, dest: Path, progress, cancel) -> Path:
    manifest = store.manifest(model_id)
    root = store.path(model_id)
    target = dest / model_id
    if target.exists():
        raise InvalidInput(f"{target} already exists. Choose another folder or remove it first.")
    staging = fresh_staging(dest / f"{model_id}.partial")
    meter = ProgressMeter(model_id, manifest.total_bytes, progress)
    cancel = cancel or threading.Event()
    try:
        check_space(dest, manifest.total_bytes, "Exporting the model", "Free some space or choose another folder.")
        for record in manifest.files:
            if not (root / record.path).is_file():
                raise ModelNotFound(f"{record.path} is missing from the installed {model_id}; run verify.")
            meter.start_file(record.path, record.size, phase="copying")
            sha = copy_hashing(root / record.path, staging / record.path, meter, cancel)
            if sha != record.sha256:
                raise CorruptCheckpoint(
                    f"The installed file {record.path} of {model_id} is damaged (its checksum changed), "
                    "so the export was stopped. Delete and download the model again."
                )
        # Same record, written beside the copy; `location` is dropped since the copy is self-contained.
        Manifest(
            manifest.catalogue_id, manifest.repo, manifest.commit, manifest.format, manifest.files
        ).write(staging)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    meter.emit(force=True, phase="done")
    return target


def _os_failure(error: OSError, written: Path, outcome: str) -> Exception:
    """A sentence for a file that could not be read, or written under `written`."""
    where = Path(error.filename) if error.filename else None
    if where is not None and (where == written or written in where.parents):
        return FolderNotWritable(f"{where} cannot be written, so {outcome}: {not_writable(error)}.")
    return FileNotReadable(f"{where or 'A file'} cannot be read, so {outcome}: {why_unreadable(error)}.")


def copy_hashing(src: Path, dst: Path, meter: ProgressMeter, cancel: threading.Event) -> str:
    """Copies one file in chunks (so it can be cancelled and reported) and returns its SHA-256."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while chunk := fin.read(CHUNK):
            if cancel.is_set():
                raise Cancelled("The copy was cancelled; nothing was installed.")
            digest.update(chunk)
            try:
                fout.write(chunk)
            except OSError as e:
                if disk_full(e):
                    raise DiskFull(f"The disk holding {dst.parent} is full; the copy was stopped.") from None
                if e.errno == errno.EFBIG:
                    # FAT32 USB sticks stop at 4 GiB a file, and the published shards are larger.
                    raise InvalidInput(
                        f"The drive holding {dst.parent} cannot store files as large as {src.name} "
                        "(FAT32 stops at 4 GiB). Use a drive formatted as exFAT or NTFS."
                    ) from None
                raise
            meter.advance(len(chunk))
    return digest.hexdigest()


def _identify(model_id: str | None, manifest: Manifest | None, config: dict, src: Path) -> str:
    found = catalogue.entry_for_config(config)
    if model_id is None:
        model_id = manifest.catalogue_id if manifest else (found.id if found else None)
    if model_id is None:
        raise InvalidInput(
            f"Hearth cannot tell which model the folder {src} holds. Name it, for example "
            "`hearth models import FOLDER --as gpt-oss-20b`."
        )
    catalogue.entry(model_id)
    if found is not None and found.id != model_id:
        raise InvalidInput(f"The folder {src} holds {found.id}, not {model_id}.")
    return model_id


def _hash_checked(path: Path, rel: str, expected: FileRecord | None, meter, cancel) -> FileRecord:
    meter.start_file(rel, path.stat().st_size, phase="verifying")

    def step(n: int) -> None:
        if cancel.is_set():
            raise Cancelled("The import was cancelled; nothing was registered.")
        meter.advance(n)

    sha = sha256_file(path, step)
    _compare(rel, sha, expected, path.parent)
    return FileRecord(rel, path.stat().st_size, sha)


def _compare(rel: str, sha: str, expected: FileRecord | None, src: Path) -> None:
    if expected is not None and sha != expected.sha256:
        fault = f"{file_part(rel)} is damaged (its checksum is not the one recorded beside it)"
        raise CorruptCheckpoint(f"The folder {src} does not hold a complete model: {fault}. Nothing was installed.",
                                fault=fault, details=f"{rel}: SHA-256 {sha} differs from {MANIFEST_NAME}")


