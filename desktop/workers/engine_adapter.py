"""The only place the desktop app reaches into the inference core: load a model folder with
its tokenizer, run one chat turn (with the chat's built-in tools, through the core's turn loop,
when it has some on), and start the local API on the loaded model. A model on a remote server
takes the loaded model's place through desktop/workers/remote_engine.py. Runs in the inference
worker's thread only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from core.chat.events import Event
from core.chat.generate import Session
from core.chat.generate import generate as core_generate
from core.chat.opener import open_model
from core.chat.tokenizer import Tokenizer
from core.engine.model import LoadProgress
from core.errors import InvalidInput
from core.server.http import ApiServer, serve_in_background
from core.store.identity import ModelFolder
from core.system.policy import Policy
from desktop.workers.remote_engine import RemoteEngine, generate_remote, load_remote
from desktop.workers.requests import ChatRequest, LoadRequest


@dataclass
class Engine:
    """A loaded model ready to chat: its tokenizer and one session, whose KV cache is reused
    from turn to turn when the new prompt extends the last one."""

    tokenizer: Tokenizer
    session: Session
    context_length: int
    model: object | None = None  # core.engine.model.Model; kept so its weights stay alive


def load_engine(request: LoadRequest, progress: Callable[[float], None] | None = None,
                cancel: threading.Event | None = None) -> Engine | RemoteEngine:
    """`progress` gets the fraction of the weights placed; `cancel` stops the load between two
    tensors (core.errors.Cancelled). On the CPU the weights are read into memory now, while the
    bar moves, so the first answer does not wait on the disk."""
    if request.remote is not None:
        return load_remote(request, cancel)

    def placed(step: LoadProgress) -> None:
        progress(step.fraction)

    opened = open_model(ModelFolder(request.path, request.catalogue_id), request.device,
                        progress=placed if progress else None, cancel=cancel, load_anyway=request.load_anyway)
    return Engine(opened.tokenizer, opened.model.new_session(), opened.model.config.context_length, opened.model)


def generate(engine: Engine | RemoteEngine, request: ChatRequest, stop: threading.Event) -> Iterator[Event]:
    """The answer's events. With `request.tools` (the chat's BuiltinTools) the model is offered
    them and each built-in call it makes is run, its result given back, until the answer (a Stop
    also stops a running tool); without, one generation."""
    if isinstance(engine, RemoteEngine):
        return generate_remote(engine, request, stop)
    if request.tools is None:
        return core_generate(engine.session, engine.tokenizer, request.messages, settings=request.settings,
                             cancel=stop)
    from core.chat.tool_turns import tool_turns

    offered = tuple(request.tools.offered)

    def step(messages: list[dict]) -> Iterator[Event]:
        return core_generate(engine.session, engine.tokenizer, messages, settings=request.settings, cancel=stop,
                             builtin_tools=offered)

    return tool_turns(step, list(request.messages), request.tools, cancel=stop)


def serve(engine: Engine | RemoteEngine, model_id: str, host: str, port: int, policy: Policy) -> ApiServer:
    """The local API on `engine`'s model, with a session of its own (the chat keeps its cache)."""
    if isinstance(engine, RemoteEngine):
        raise InvalidInput(f"The local API serves models on this computer only; {model_id} is on a server, "
                           "which other programs can use directly.")
    if engine.model is None:
        raise InvalidInput("This model cannot serve the local API (it has no weights loaded).")
    return serve_in_background(engine.model, engine.tokenizer, model_id, host, port, policy=policy)
