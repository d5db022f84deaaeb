"""Hearth's core: gpt-oss on this machine, from the published checkpoints. No Qt here.

Packages by role, each importing only those below it (docs/architecture.md; checked by the
import-linter contracts in pyproject.toml):

    core.server   the local OpenAI-compatible API (HTTP, chat completions, responses)
    core.chat     tokenizer, harmony rendering and parsing, events, generation, conversation
    core.store    models on disk: catalogue folders, downloads, import/export, verification
    core.system   the organisation's policy, the zero-egress guard, hardware and paths
    core.engine   the gpt-oss model in PyTorch: config, checkpoint, transformer, KV cache, sampling
    kernels       (beside core) MoE and attention kernels: Triton, compiled CPU, PyTorch twins

The public API is importable from `core` itself; names load on first use, so the parts that
need no torch (model store, hardware, policy) start without loading it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.chat.harmony import render_chat
    from core.chat.tokenizer import Tokenizer, load_tokenizer
    from core.engine.model import Model, Session, load_model

_PUBLIC = {
    "load_model": "core.engine.model", "Model": "core.engine.model", "Session": "core.engine.model",
    "load_tokenizer": "core.chat.tokenizer", "Tokenizer": "core.chat.tokenizer",
    "render_chat": "core.chat.harmony",
}
__all__ = ["Model", "Session", "Tokenizer", "load_model", "load_tokenizer", "render_chat"]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'core' has no attribute {name!r}")
