"""What the window asks of the inference worker, and the functions the worker calls to do it
(desktop/workers/engine_adapter.py gives the real ones; tests give fakes)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.chat.events import Event
from core.chat.generate import GenerationSettings
from core.system.policy import Policy


@dataclass(frozen=True)
class LoadRequest:
    model_id: str  # catalogue id, or a folder name for models outside the catalogue
    path: Path
    device: str = "cpu"
    catalogue_id: str | None = None  # what the folder holds, as core.store.identity.find_model found
    load_anyway: bool = False  # the person chose to load it although less memory is free than it needs
    # A model on a remote server instead (core.remote.RemoteModel, its key not yet looked up):
    # `model_id` is then its name, "gpt-oss-120b on llm.example.internal", and `path` is unused.
    remote: Any = None


@dataclass(frozen=True)
class LoadedModel:
    model_id: str
    path: Path
    device: str
    context_length: int
    token: int = 0  # which load request this answers
    notice: str = ""  # a sentence about speed, when the model runs without the compiled kernels


@dataclass(frozen=True)
class ChatRequest:
    messages: list[dict]  # chat-completions messages, system/developer first
    settings: GenerationSettings = field(default_factory=GenerationSettings)  # the core's one settings type
    # The chat's built-in tools for this turn (desktop/chat_tools.py's Toolbox: the core's BuiltinTools,
    # `offered` set to the switches turned on); None: no tool is offered, the turn is one generation.
    tools: Any = None


# (engine, request, stop) -> events. The engine is whatever `load_engine` returned.
GenerateFn = Callable[[object, ChatRequest, threading.Event], Iterator[Event]]
# (request, progress, cancel) -> engine. `progress` takes the fraction done (0 to 1); setting
# `cancel` makes the load raise core.errors.Cancelled soon after.
LoadFn = Callable[[LoadRequest, Callable[[float], None], threading.Event], object]
# (engine, model id, host, port, policy) -> a running server with `url` and `stop()`.
ServeFn = Callable[[object, str, str, int, Policy], object]
