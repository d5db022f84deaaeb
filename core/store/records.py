"""What the model store says about its models, and what its helpers need of it.

`ModelInfo`, `FileProblem` and `VerifyReport` are the store's answers. `StoreView` is the part
of `ModelStore` that downloads (core/store/downloads.py) and import/export
(core/store/transfer.py) work through: they take the store as an argument, and typing it with
this protocol keeps them from importing core/store/model_store.py, which imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from core.store.model_files import Manifest
from core.system.policy import Policy


@dataclass(frozen=True)
class ModelInfo:
    id: str
    repo: str
    description: str
    # "installed", "damaged" (installed, but its manifest cannot be read: delete it, then download
    # or import again), "partial" (a resumable download), or "available"
    status: str
    path: Path | None  # folder holding the files, for installed models
    bytes_on_disk: int  # installed size, or how much of a partial download is there
    total_bytes: int  # full size (the catalogue's estimate until the hub has told the real one)
    in_place: bool = False  # registered from a folder outside the models directory
    downloading: bool = False  # a process is downloading it right now
    problem: str | None = None  # for "damaged": what is wrong, in a sentence


@dataclass(frozen=True)
class FileProblem:
    path: str
    problem: str  # "missing", "wrong size", "wrong checksum", "cannot be read"


@dataclass(frozen=True)
class VerifyReport:
    model_id: str
    files_checked: int
    problems: tuple[FileProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


class StoreView(Protocol):
    models_dir: Path
    offline: bool
    policy: Policy
    endpoint: str | None
    token: str | None
    load_check: bool
    retry: object  # core.store.downloads.RetryPolicy

    def model_dir(self, model_id: str) -> Path: ...
    def partial_dir(self, model_id: str) -> Path: ...
    def path(self, model_id: str) -> Path: ...
    def is_installed(self, model_id: str) -> bool: ...
    def manifest(self, model_id: str) -> Manifest: ...
    def info(self, model_id: str) -> ModelInfo: ...
