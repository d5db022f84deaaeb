"""Hearth's inference core: gpt-oss in PyTorch, from the published checkpoints. No Qt here.

`load_model`, `Model` and `Session` are imported on first use, so the parts of the core that
need no torch (model store, hardware, policy) start without loading it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.engine import Model, Session, load_model

__all__ = ["Model", "Session", "load_model"]


def __getattr__(name: str):
    if name in __all__:
        from core import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'core' has no attribute {name!r}")
