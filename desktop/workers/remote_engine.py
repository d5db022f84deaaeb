"""A model on a remote server in the inference worker's place of a loaded one: "loading" it
looks up its API key (the keyring may take a moment, so not on the window's thread) and asks
the server whether it serves the model; a turn streams from the server as core/remote/ gives
it, with the same events as a local turn. Runs in the inference worker's thread only.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from core.chat.events import Event
from core.chat.generate import GenerationSettings
from core.errors import Cancelled, InvalidInput
from core.remote import ModelGone, RemoteModel, RemoteSettings, api_key_for
from desktop.workers.requests import ChatRequest, LoadRequest

REMOTE_DEVICE = "server"  # LoadRequest.device of a remote model: "on the server" in the status bar


@dataclass
class RemoteEngine:
    model: RemoteModel
    context_length: int = 0  # the server's to know; 0: not shown


def load_remote(request: LoadRequest, cancel: threading.Event | None = None) -> RemoteEngine:
    """The remote model of `request`, once its server said it serves it: errors reaching the
    server (unreachable, a refused key, offline mode) are raised as their sentences."""
    chosen: RemoteModel = request.remote
    server = dataclasses.replace(chosen.server, api_key=api_key_for(chosen.server.url))
    model = RemoteModel(server, chosen.model_id, api=chosen.api)
    served = server.models()
    if cancel is not None and cancel.is_set():
        raise Cancelled("Connecting to the server was cancelled.")
    if chosen.model_id not in served:
        offered = f" It serves {', '.join(served)}." if served else " It serves no model now."
        raise ModelGone(f"The server at {server.name} does not serve {chosen.model_id}.{offered}",
                        advice="Choose one of its models from the Model menu.")
    return RemoteEngine(model)


def remote_settings(settings: GenerationSettings) -> RemoteSettings:
    """The window's answer settings, as a server takes them. The reasoning budget has no field
    in the servers' APIs: it applies to models on this computer only."""
    return RemoteSettings(max_tokens=settings.max_new_tokens, reasoning_effort=settings.reasoning_effort,
                          temperature=min(settings.sampling.temperature, 2.0), top_p=settings.sampling.top_p)


def generate_remote(engine: RemoteEngine, request: ChatRequest, stop: threading.Event) -> Iterator[Event]:
    if request.tools is not None:
        raise InvalidInput("The model's built-in tools (searching your documents, running Python) work only "
                           "with a model on this computer.", advice="Turn them off for this chat, or choose a "
                           "model on this computer.")
    return engine.model.generate(request.messages, settings=remote_settings(request.settings), cancel=stop)
