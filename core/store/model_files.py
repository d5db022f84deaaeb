"""Model files on disk: hashing, the Hearth manifest, and a structure check of a checkpoint folder.

- `sha256_file`: the hash the hub publishes for LFS files (small files only by their git blob id).
- `Manifest` (`hearth-manifest.json`): what an installed or exported model consists of: catalogue
  id, source repository and commit, format, and every file with its size and SHA-256. Written
  into every installed model folder and beside every export.
- `inspect_checkpoint(folder)`: finds which published format a folder holds (`hf` = the
  repository root, `original` = OpenAI's own `original/` layout) and checks config.json, the
  shard index and every safetensors header against the file sizes, without loading weights.
- `load_check(folder)`: then opens the model with the engine, as the app will.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from core.engine.parts import file_part, incomplete
from core.engine.safetensors_header import read_header
from core.errors import (
    CorruptCheckpoint,
    FileNotReadable,
    InvalidConfig,
    ModelNotFound,
    NotEnoughMemory,
    why_unreadable,
)

MANIFEST_NAME = "hearth-manifest.json"
INDEX_NAME = "model.safetensors.index.json"
CHUNK = 1024 * 1024
# A safetensors header larger than this is not a header but damage (the real ones are < 1 MB).


def sha256_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
    return digest.hexdigest()


@dataclass(frozen=True)
class FileRecord:
    path: str  # relative, with forward slashes
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    catalogue_id: str
    repo: str
    commit: str | None
    format: str  # "hf" or "original"
    files: tuple[FileRecord, ...]
    # Set when a model is registered in place: the folder that holds its files.
    location: str | None = None

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def write(self, folder: Path) -> None:
        data = asdict(self)
        data["files"] = [asdict(f) for f in self.files]
        tmp = folder / (MANIFEST_NAME + ".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        os.replace(tmp, folder / MANIFEST_NAME)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST_NAME
        try:
            data = json.loads(path.read_text())
            files = tuple(FileRecord(**f) for f in data.pop("files"))
            return cls(files=files, **data)
        except FileNotFoundError:
            raise ModelNotFound(f"The folder {folder} holds no Hearth manifest.") from None
        except (ValueError, TypeError, KeyError) as e:
            raise CorruptCheckpoint("Hearth's list of the model's files is damaged and cannot be read.",
                                    details=f"{path}: {e}") from None


@dataclass(frozen=True)
class CheckpointLayout:
    format: str  # "hf" or "original"
    config: dict
    # Files that make up the model, relative to the folder inspected: weights, index, config,
    # tokenizer and generation files. Folders of other formats (original/, metal/) are not listed.
    files: tuple[str, ...]


def _read_config(path: Path) -> dict:
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        raise incomplete(ModelNotFound, path.parent, "its settings file is missing", f"{path} is missing") from None
    except OSError as error:
        # The path stays in the sentence: the person must find the file to change its permissions.
        raise FileNotReadable(f"The model's settings file {path} cannot be read: {why_unreadable(error)}.") \
            from None
    except (ValueError, UnicodeDecodeError):
        raise incomplete(InvalidConfig, path.parent, "its settings file is damaged (it cannot be read)",
                          f"{path.name} is not valid JSON") from None
    if not isinstance(config, dict) or "num_hidden_layers" not in config:
        raise incomplete(InvalidConfig, path.parent, "its settings file does not describe a gpt-oss model",
                          f"{path.name} has no num_hidden_layers")
    return config


def _tensor_names(path: Path) -> set[str]:
    return set(read_header(path)[0])


def _check_hf(folder: Path, config: dict) -> list[str]:
    index_path = folder / INDEX_NAME
    if index_path.exists():
        try:
            weight_map = json.loads(index_path.read_text())["weight_map"]
        except OSError as error:
            raise FileNotReadable(f"The list of the model's weights files {index_path} cannot be read: "
                                  f"{why_unreadable(error)}.") from None
        except (ValueError, KeyError, TypeError):
            raise incomplete(CorruptCheckpoint, folder, f"{file_part(INDEX_NAME)} is damaged",
                              f"{INDEX_NAME} is not JSON with a weight_map") from None
        shards = sorted(set(weight_map.values()))
        absent = [shard for shard in shards if not (folder / shard).is_file()]
        if absent:
            fault = (f"{file_part(absent[0])} is missing" if len(absent) == 1
                     else f"{len(absent)} of the {len(shards)} parts of its weights are missing")
            raise incomplete(ModelNotFound, folder, fault, f"missing: {', '.join(absent)}")
        for shard in shards:
            names = _tensor_names(folder / shard)
            missing = [t for t, s in weight_map.items() if s == shard and t not in names]
            if missing:
                raise incomplete(CorruptCheckpoint, folder,
                                  f"{file_part(shard)} lacks {len(missing)} of the pieces it should hold",
                                  f"{shard} lacks {len(missing)} tensors, e.g. {missing[0]}")
        weights = [INDEX_NAME, *shards]
    elif (folder / "model.safetensors").is_file():
        _tensor_names(folder / "model.safetensors")
        weights = ["model.safetensors"]
    else:
        raise incomplete(ModelNotFound, folder, "its weights are missing",
                          f"no {INDEX_NAME} and no model.safetensors")
    others = [
        p.name
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(".") and p.name != MANIFEST_NAME and p.name not in weights
        and not p.name.endswith(".safetensors")
    ]
    return [*others, *weights]


def _check_original(folder: Path) -> list[str]:
    shards = sorted(p.name for p in folder.glob("*.safetensors"))
    if not shards:
        raise incomplete(ModelNotFound, folder, "its weights are missing", "no *.safetensors files")
    for shard in shards:
        _tensor_names(folder / shard)
    others = sorted(
        p.name for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name != MANIFEST_NAME
        and p.suffix != ".safetensors"
    )
    return [*others, *shards]


def inspect_checkpoint(folder: Path) -> CheckpointLayout:
    """Which format `folder` holds and which files make it up; raises if it is incomplete or damaged.

    The root format (config.json with `model_type`, a shard index) wins when a folder holds both.
    A folder whose config.json is in OpenAI's own format, or that holds only an `original/`
    folder, is the original format; its files are listed under `original/` in the second case.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelNotFound(f"The folder {folder} does not exist.")
    if (folder / "config.json").is_file():
        config = _read_config(folder / "config.json")
        # The same test the engine's config reader uses to tell the two formats apart.
        if "num_experts" in config and "num_local_experts" not in config:
            return CheckpointLayout("original", config, tuple(_check_original(folder)))
        return CheckpointLayout("hf", config, tuple(_check_hf(folder, config)))
    if (folder / "original" / "config.json").is_file():
        config = _read_config(folder / "original" / "config.json")
        files = [f"original/{name}" for name in _check_original(folder / "original")]
        # Tokenizer files live at the repository root in the published layout; keep them along.
        extras = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name.startswith("tokenizer"))
        return CheckpointLayout("original", config, tuple([*extras, *files]))
    raise incomplete(ModelNotFound, folder, _what_is_there(folder), "no config.json, nor original/config.json")


def _what_is_there(folder: Path) -> str:
    """What a folder without a model's settings file lacks, as a person would put it."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if not entries:
        return "the folder is empty"
    if not any(folder.glob("*.safetensors")) and not any(folder.glob("original/*.safetensors")):
        return "its settings file and its weights are missing"
    return "its settings file is missing"


def load_check(folder: Path) -> None:
    """Opens the model once with the engine on the CPU (weights stay memory-mapped).

    NotEnoughMemory is not a fault of the files: the engine raises it only after reading every
    tensor's name, shape and type, and a small machine may well fetch a model to export it.
    """
    from core.engine.model import load_model  # torch loads here, not for listing models

    with contextlib.suppress(NotEnoughMemory):
        load_model(folder, device="cpu")
