"""Which model a folder holds, judged by what is in it, and whether the organisation allows it.

A folder is a catalogue model when its config.json describes that model's shape (the same
reader the engine loads it with); nothing else counts: not the folder's name, not its
manifest's claim, not a name given on the command line. So `allowed_models` cannot be
sidestepped by renaming a folder or serving under another name, and a folder that holds no
catalogue model is refused whenever `allowed_models` is set.

`find_model(name, policy)` is how every front end (terminal, window, server) turns "a catalogue
id or a folder" into an allowed folder, before any weights are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.engine import catalogue
from core.engine.checkpoint import locate
from core.engine.config import ModelConfig, load_config
from core.errors import HearthError
from core.store.model_store import ModelStore
from core.system.policy import Policy, PolicyForbids


@dataclass(frozen=True)
class ModelFolder:
    path: Path
    catalogue_id: str | None  # the catalogue model its config describes; None for any other model

    @property
    def name(self) -> str:
        """What to call it: its catalogue id, else the folder's name."""
        return self.catalogue_id or self.path.resolve().name


def identify(path: str | Path) -> str | None:
    """The catalogue id of the model in the folder at `path`, by its config; None when the folder
    holds no readable config or another model."""
    try:
        config = load_config(locate(path).config_path)
    except HearthError:
        return None
    return identify_config(config)


def identify_config(config: ModelConfig) -> str | None:
    entry = catalogue.entry_for_config(config)
    return entry.id if entry else None


def check_allowed(policy: Policy, catalogue_id: str | None, shown: str) -> None:
    """Raises `PolicyForbids` unless `policy` allows the model identified as `catalogue_id`
    (`shown` names it in the sentence when it is no catalogue model)."""
    if catalogue_id is not None:
        policy.check_model(catalogue_id)
    elif policy.allowed_models is not None:
        allowed = ", ".join(sorted(policy.allowed_models)) or "none"
        raise PolicyForbids(f"{shown} is not one of the models Hearth knows, so it is not allowed on this computer "
                            f"(allowed: {allowed}). {policy.lock_reason('allowed_models')}")


def find_model(name: str, policy: Policy, models_dir: str | Path | None = None) -> ModelFolder:
    """The folder to load for `name` (a catalogue id, or a model folder), once `policy` allows
    what it holds. Raises PolicyForbids, or ModelNotFound for a catalogue model not installed.
    A path that does not exist is returned as it is: loading it says what is missing."""
    path = Path(name).expanduser()
    if not path.exists() and name in catalogue.CATALOGUE:
        policy.check_model(name)  # before looking for it: a refusal beats "not installed"
        path = ModelStore(models_dir, policy=policy).path(name)
    folder = ModelFolder(path, identify(path))
    if path.exists():
        check_allowed(policy, folder.catalogue_id, f"The model in the folder {path.name!r}")
    return folder
