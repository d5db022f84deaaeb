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
import os
from typing import TYPE_CHECKING

# torch's OpenMP threads otherwise spin for a while after each small op of a decode step or
# prefill chunk, taking the two or four cores of a laptop from the compiled kernels' own
# threads (kernels/cpu/pool.c); asleep, they cost a wake-up per large op instead. Read by
# OpenMP when torch loads, so it is set before any torch import (a person's own setting wins).
# Prefill-128 on the whole 20b, 2 threads, three alternating pairs: 21.8-23.5 tokens/s with
# it, 20.2-21.0 without.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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
