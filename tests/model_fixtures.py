"""Tiny but real gpt-oss repositories for the model-store tests: the files of the published
`openai/gpt-oss-20b` layout (root format, `original/`, `metal/`), with random weights from
`core.engine.testing.write_checkpoint` so the engine's load-check runs on them for real."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from core.engine.testing import tiny_config, write_checkpoint

REPO_ID = "openai/gpt-oss-20b"


def repo_files(seed: int = 0, vocab_size: int = 512, max_shard_bytes: int = 200_000) -> dict[str, bytes]:
    """Path -> bytes of a fake `openai/gpt-oss-20b` with two root shards and the other formats."""
    config = tiny_config(vocab_size=vocab_size)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_checkpoint(root, config, seed=seed, max_shard_bytes=max_shard_bytes)
        write_checkpoint(root / "original", config, seed=seed, format="original")
        files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    files |= {
        "tokenizer.json": json.dumps({"model": {"type": "BPE"}, "added_tokens": []}).encode(),
        "tokenizer_config.json": b'{"model_max_length": 131072}',
        "special_tokens_map.json": b'{"eos_token": "<|return|>"}',
        "chat_template.jinja": b"{{ messages }}",
        "README.md": b"# gpt-oss-20b (fake)\n",
        ".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n",
        "original/dtypes.json": b"{}",
        "metal/model.bin": b"metal weights that must never be fetched" * 100,
    }
    return files


def root_files(files: dict[str, bytes]) -> dict[str, bytes]:
    """The files a download must fetch: top-level ones, without git metadata."""
    return {p: b for p, b in files.items() if "/" not in p and not p.startswith(".")}


def write_folder(folder: Path, files: dict[str, bytes]) -> Path:
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    return folder
