"""A chat turn answered by a model on a remote server, as the same stream of events a local
turn gives (core/chat/generate.py): `RemoteModel.generate(messages, ...)`.

As locally, errors found before anything streams (no connection, a refused key, a model that
is gone, offline mode's refusal) are raised as typed errors with a sentence; once the answer
has begun, a failure (the connection dropped, the server's error in the middle) ends the turn
with `Finished(reason="error", error=sentence)` after the text already given, so it stays.
Setting `cancel` stops the answer at once, even while the server is still reading the prompt:
the connection is closed, which also tells the server to stop.

The figures in `Finished` come from the server's token counts (`usage`) and this computer's
clock: the time to the first token includes the network and the server's queue, and the
prompt speed is measured over that time, so both are what the person waited, not the GPU's
own speed. A server that gives no counts leaves them at the number of pieces that arrived.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import httpx2 as httpx

from core.chat.events import Event, Finished, FinishReason
from core.remote.chat_stream import ChatStreamReader, ServerStreamError
from core.remote.errors import RemoteError, StreamDropped, for_transport
from core.remote.request_body import RemoteSettings, chat_body, responses_body
from core.remote.responses_stream import ResponsesStreamReader
from core.remote.server import RemoteServer
from core.remote.sse import sse_data

Api = Literal["chat", "responses"]


class RemoteModel:
    """A model served by `server` under the id `model_id`, spoken to through the chat
    completions API (`api="chat"`, every server has it) or the Responses API."""

    def __init__(self, server: RemoteServer, model_id: str, api: Api = "chat",
                 clock: Callable[[], float] = time.perf_counter):
        if api not in ("chat", "responses"):
            raise ValueError(f"api must be 'chat' or 'responses', not {api!r}")
        self.server, self.model_id, self.api, self.clock = server, model_id, api, clock

    @property
    def name(self) -> str:
        """How a person knows it: "gpt-oss-120b on llm.example.internal"."""
        return f"{self.model_id} on {self.server.name}"

    def generate(self, messages: Sequence[Mapping[str, Any]], *, settings: RemoteSettings | None = None,
                 tools: Sequence[Mapping[str, Any]] | None = None,
                 cancel: threading.Event | None = None) -> Iterator[Event]:
        """The assistant's next turn in `messages` (chat-completions form), streamed as events."""
        settings = settings or RemoteSettings()
        cancel = cancel or threading.Event()
        if self.api == "chat":
            route, body, reader = "chat/completions", chat_body(self.model_id, messages, settings, tools), \
                ChatStreamReader()
        else:
            route, body, reader = "responses", responses_body(self.model_id, messages, settings, tools), \
                ResponsesStreamReader()
        figures = _Figures(self.clock())
        if cancel.is_set():
            yield figures.finish("cancelled", reader, self.clock())
            return
        with self.server.client() as client, _Canceller(cancel) as canceller:
            try:
                with self.server.request(client, "POST", route, model=self.model_id, body=body,
                                         trace=canceller.trace) as response:
                    yield from self._read(response, reader, figures, cancel)
            except RemoteError:
                if not cancel.is_set():
                    raise
                yield figures.finish("cancelled", reader, self.clock())  # stopped before the answer began

    def _read(self, response: httpx.Response, reader: ChatStreamReader | ResponsesStreamReader,
              figures: _Figures, cancel: threading.Event) -> Iterator[Event]:
        reason: FinishReason = "stop"
        error = None
        try:
            if "text/event-stream" in response.headers.get("content-type", ""):
                for data in sse_data(response.iter_lines()):
                    if data.strip() != "[DONE]":  # read on to the end: a connection cut short is reset
                        yield from figures.seen(reader.feed(_json(data)), self.clock())
            else:  # a server that ignored "stream": the whole answer at once
                yield from figures.seen(reader.whole(_json(response.read().decode("utf-8", "replace"))), self.clock())
            if not reader.complete:
                raise StreamDropped(f"The connection to {self.server.name} ended before the answer was complete; "
                                    "the part above is what arrived.")
            reason = "length" if reader.finish_reason == "length" else "stop"
        except Exception as failure:
            if cancel.is_set():
                reason = "cancelled"
            else:
                sentence = self._sentence(failure)
                if not reader.writer.wrote:
                    raise sentence from failure  # nothing shown yet: a typed error, as locally
                reason, error = "error", str(sentence)
            yield from reader.writer.close(complete=False)
        yield figures.finish(reason, reader, self.clock(), error)

    def _sentence(self, failure: Exception) -> RemoteError:
        if isinstance(failure, RemoteError):
            return failure
        if isinstance(failure, ServerStreamError):
            return RemoteError(f"The server at {self.server.name} stopped with an error while answering: {failure}")
        if isinstance(failure, ValueError):  # not JSON
            return RemoteError(f"The server at {self.server.name} sent something that is not an answer Hearth "
                               "can read.", details=str(failure))
        if isinstance(failure, httpx.TransportError):
            return for_transport(failure, server=self.server.name, host=self.server.url.host,
                                 read_timeout=self.server.read_timeout, streaming=True)
        return RemoteError(f"Reading the answer from {self.server.name} failed ({type(failure).__name__}: "
                           f"{failure}).")


def _json(data: str) -> Any:
    return json.loads(data)


class _Canceller:
    """While open, cuts the turn's connection as soon as `cancel` is set, from a small watcher
    thread. The socket is shut down, not only closed: that wakes a read blocked on a server
    that is still reading the prompt (closing it from another thread would not, on Linux).
    `trace` is given to the HTTP client, which reports each connection it opens."""

    def __init__(self, cancel: threading.Event):
        self.cancel, self.done = cancel, threading.Event()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        if event.endswith(("connect_tcp.complete", "start_tls.complete")):
            stream = info.get("return_value")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                with self.lock:
                    self.sockets.append(sock)
            if self.cancel.is_set():
                self._cut()

    def __enter__(self) -> _Canceller:
        threading.Thread(target=self._watch, name="hearth-remote-cancel", daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()

    def _watch(self) -> None:
        while not self.done.is_set():
            if self.cancel.wait(0.05):
                if not self.done.is_set():
                    self._cut()
                return

    def _cut(self) -> None:
        with self.lock:
            sockets = list(self.sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)


class _Figures:
    """The clock readings for `Finished`: start, first piece of the answer, end."""

    def __init__(self, started: float):
        self.started = started
        self.first: float | None = None
        self.pieces = 0

    def seen(self, events: list[Event], now: float) -> list[Event]:
        if events:
            self.pieces += 1
            if self.first is None:
                self.first = now
        return events

    def finish(self, reason: FinishReason, reader: ChatStreamReader | ResponsesStreamReader, now: float,
               error: str | None = None) -> Finished:
        usage = reader.usage
        generated = usage.completion_tokens if usage and usage.completion_tokens else self.pieces
        prompt = usage.prompt_tokens if usage else 0
        reused = usage.cached_tokens if usage else 0
        waited = (self.first - self.started) if self.first is not None else 0.0
        writing = (now - self.first) if self.first is not None else 0.0
        return Finished(
            reason=reason, prompt_tokens=prompt, reused_tokens=reused, generated_tokens=generated,
            prompt_tokens_per_second=(prompt - reused) / waited if waited > 0 else 0.0,
            decode_tokens_per_second=(generated - 1) / writing if writing > 0 and generated > 1 else 0.0,
            time_to_first_token=waited, error=error)
