"""Hearth's inference core: gpt-oss in PyTorch, from the published checkpoints. No Qt here."""

from core.engine import Model, Session, load_model

__all__ = ["Model", "Session", "load_model"]
