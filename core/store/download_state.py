"""What a download in progress leaves on disk, and how processes see each other's downloads.

`<models_dir>/.downloads/<id>/state.json` pins the repository commit and the file list (sizes,
SHA-256 or git blob id) the first run got from the hub, so every later run, in any process,
fetches pieces of the same revision. `<id>.lock` is held by the downloading process (the
operating system drops it if that process dies); a `pause-request` file in the partial folder
asks that process to pause.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from core.store.locks import ProcessLock

STATE_NAME = "state.json"
PAUSE_NAME = "pause-request"


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    sha256: str | None  # published for LFS files
    git_oid: str | None  # the git blob id, for the others


@dataclass(frozen=True)
class DownloadState:
    catalogue_id: str
    repo: str
    commit: str
    files: tuple[RemoteFile, ...]


def partial_dir(models_dir: Path, model_id: str) -> Path:
    return Path(models_dir) / ".downloads" / model_id


def read_state(partial: Path) -> DownloadState | None:
    """The pinned plan of a partial download; None if there is none or it is unreadable."""
    try:
        data = json.loads((partial / STATE_NAME).read_text())
        files = tuple(RemoteFile(**f) for f in data.pop("files"))
        return DownloadState(files=files, **data)
    except (FileNotFoundError, ValueError, TypeError, KeyError):
        return None


def write_state(partial: Path, state: DownloadState) -> None:
    tmp = partial / (STATE_NAME + ".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2))
    os.replace(tmp, partial / STATE_NAME)


def download_lock(models_dir: Path, model_id: str) -> ProcessLock:
    return ProcessLock(Path(models_dir) / ".downloads" / f"{model_id}.lock")


def is_downloading(models_dir: Path, model_id: str) -> bool:
    """True while some process (this one included, through another call) downloads the model."""
    lock = download_lock(models_dir, model_id)
    return lock.path.exists() and lock.is_held_elsewhere()


def request_pause(models_dir: Path, model_id: str) -> bool:
    """Asks the running download to pause at its next chunk; False if none is running."""
    if not is_downloading(models_dir, model_id):
        return False
    (partial_dir(models_dir, model_id) / PAUSE_NAME).touch()
    return True
