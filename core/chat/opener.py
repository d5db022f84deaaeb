"""A model ready to chat: the one way the terminal, the window and the server open a model.

`find_model` (core/store/identity.py) turns a catalogue id or a folder into a folder the
organisation allows, by what the folder holds; `open_model` then loads its weights on the
chosen device ("auto": the fit planner's choice, as the window makes it) and its tokenizer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.chat.tokenizer import Tokenizer, load_tokenizer
from core.engine.checkpoint import locate
from core.engine.config import load_config
from core.engine.model import LoadProgress, Model, load_model
from core.store.identity import ModelFolder, find_model
from core.system.hardware import choose_device
from core.system.policy import Policy
from core.system.policy_file import load_policy

AUTO = "auto"


@dataclass(frozen=True)
class OpenModel:
    folder: ModelFolder
    model: Model
    tokenizer: Tokenizer
    device: str

    @property
    def name(self) -> str:
        return self.folder.name


def device_for(path: str | Path, device: str = AUTO) -> str:
    """`device`, or for "auto" where the fit planner runs the model in the folder at `path`."""
    if device != AUTO:
        return device
    return choose_device(load_config(locate(path).config_path))


def open_model(model: str | ModelFolder, device: str = AUTO, *, policy: Policy | None = None,
               models_dir: str | Path | None = None, preload: bool | None = None,
               progress: Callable[[LoadProgress], None] | None = None,
               cancel: threading.Event | None = None, load_anyway: bool = False) -> OpenModel:
    """Opens `model`: a folder `find_model` already allowed, or a catalogue id or folder, which
    `policy` (the organisation's, `load_policy()`, unless given) must allow.
    `preload` (default: on the processor) reads the weights into memory now, so the first
    answer does not wait on the disk. Raises PolicyForbids before reading any weight, and the
    engine's typed errors (ModelNotFound, NotEnoughMemory, Cancelled ...) after; MemoryTight
    when the memory free right now is short, unless `load_anyway`."""
    if isinstance(model, ModelFolder):
        folder = model
    else:
        folder = find_model(model, policy if policy is not None else load_policy(), models_dir)
    device = device_for(folder.path, device)
    preload = device == "cpu" if preload is None else preload
    loaded = load_model(folder.path, device=device, preload=preload, progress=progress, cancel=cancel,
                        load_anyway=load_anyway)
    return OpenModel(folder, loaded, load_tokenizer(folder.path), device)
