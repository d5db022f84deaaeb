"""The local OpenAI-compatible HTTP API: `ApiServer(ServedModel(...), host, port)`.

Owns the HTTP side: routes (`GET /v1/models`, `POST /v1/chat/completions` whole or streamed
as server-sent events, `POST /v1/responses`), the API key, request size limits, one
generation at a time with a bounded first-come-first-served queue (429 when full, 503 when
shutting down), and cancelling a generation whose client went away. What requests mean and
what answers look like lives in `core.server.chat_completions`; answers made in steps around
built-in tool calls (`builtin_tools`), which the server runs itself, in `core.server.tool_steps`.

Built on the standard library's `ThreadingHTTPServer`: a loopback API for a handful of local
tools needs no web framework, and every dependency is one more thing an air-gapped site has
to vet. Each connection has its own thread; only the generation itself is serialised, since
the model has one KV cache and the machine's cores are already busy with one answer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hmac
import itertools
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from core.chat.answer import Answer
from core.chat.events import Event
from core.chat.generate import Session
from core.chat.harmony import render_chat
from core.chat.harmony_tools import function_tools
from core.chat.tokenizer import Tokenizer
from core.chat.tool_turns import BuiltinTools
from core.errors import HearthError
from core.server import chat_completions as openai_api
from core.server.api_errors import ApiError
from core.server.chat_completions import ChatFrames, TurnRequest
from core.server.request_queue import Admission, ClientWatch, QueueFull, ShuttingDown
from core.server.responses import ResponseFrames
from core.server.stop_sequences import StopSequences
from core.server.tool_steps import answer_in_steps
from core.store.identity import check_allowed, identify_config
from core.system.policy import Policy, is_loopback_host
from core.system.policy_file import load_policy

if TYPE_CHECKING:
    from core.engine.model import Model

MAX_BODY_BYTES = 8 * 2**20  # far above any prompt that fits the context, far below a memory problem
_log = logging.getLogger("hearth.api")


@dataclass
class ServedModel:
    """The one model a server answers with: its id (what clients pass as `model`), tokenizer and
    engine session. The session's KV cache is reused from one request to the next when their
    prompts share a beginning (the same system prompt and tools, or a growing conversation)."""

    model_id: str
    tokenizer: Tokenizer
    session: Session
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def context(self) -> int:
        return self.session.max_tokens

    def card(self) -> dict[str, Any]:
        return {"id": self.model_id, "object": "model", "created": self.created, "owned_by": "hearth"}


class ApiServer(ThreadingHTTPServer):
    """`serve_forever()` to run, `stop()` from another thread to end it (running generations
    are cancelled, waiting requests get 503)."""

    daemon_threads = True
    allow_reuse_address = True
    # Connections the system holds while every handler is busy: with the standard library's 5,
    # a burst of 50 clients saw resets instead of an answer (each now gets 200, 429 or 503).
    request_queue_size = 128
    # A client that stops reading a streamed answer must not hold the one generation slot: the
    # system may buffer this much of the answer for it, and a write may then block this long
    # before the answer is cancelled and the slot freed (a person's client reads far faster).
    send_buffer_bytes = 64 * 1024
    send_timeout = 15.0

    def __init__(self, served: ServedModel, host: str = "127.0.0.1", port: int = 8080, *,
                 api_key: str | None = None, max_queue: int = 4, max_body: int = MAX_BODY_BYTES,
                 current_date: str | datetime.date | None = None, include_reasoning: bool = True,
                 send_timeout: float | None = None, builtin_tools: BuiltinTools | None = None):
        self.served = served
        # The built-in tools offered with every request; each request gets its own (`new_chat()`).
        # Without any, a built-in call the model makes anyway is answered "not available".
        self.builtin_tools = builtin_tools or BuiltinTools()
        if send_timeout is not None:
            self.send_timeout = send_timeout
        self.include_reasoning = include_reasoning
        self.api_key = api_key or None
        self.max_body = max_body
        self.current_date = current_date
        self.admission = Admission(max_queue)
        self.stopping = threading.Event()
        self.loopback = is_loopback_host(host)
        # Open client connections and the threads serving them, so `stop()` can end them all:
        # a handler thread still alive when Python exits dies inside torch's tensor cleanup.
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._connections_lock = threading.Lock()
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks DNS for the host's full name (getfqdn): a lookup that can
        # leave the machine, for a name that is only used in log lines.
        if self.allow_reuse_address:  # what TCPServer.server_bind would do: a restart on the same
            # port must not wait out the TIME_WAIT of a keep-alive client's closed connection.
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    @property
    def url(self) -> str:
        host = self.server_name
        return f"http://{f'[{host}]' if ':' in host else host}:{self.server_port}/v1"

    def stop(self, wait: float = 10.0) -> None:
        """Stops accepting, cancels the running generation (its client gets an error), ends the
        idle keep-alive connections, and waits up to `wait` seconds for every handler to end."""
        self.admission.close()
        self.stopping.set()
        self.shutdown()
        self.server_close()
        with self._connections_lock:
            open_now = dict(self._connections)
        for connection in open_now:
            # A handler waiting for the next request reads the end; one writing still may write.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RD)
        deadline = time.monotonic() + wait
        for thread in open_now.values():
            thread.join(max(0.0, deadline - time.monotonic()))

    def process_request_thread(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections[request] = threading.current_thread()
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.pop(request, None)


def serve_in_background(model: Model, tokenizer: Tokenizer, model_id: str, host: str = "127.0.0.1",
                        port: int = 8080, *, policy: Policy | None = None, context: int | None = None,
                        **options: Any) -> ApiServer:
    """Starts a server for `model` (a loaded `core.engine.model.Model`) on its own thread, with a
    session of its own, and returns it (`url`, `stop()`). For the desktop app, which must not
    touch the engine itself. The organisation's policy (`load_policy()` unless given) is
    checked first: raises `PolicyForbids` when it turns the API off, keeps it on loopback, or
    does not allow the model, judged by its shape (core/store/identity.py), not by `model_id`,
    which only names it to clients, or a built-in tool it turns off (`builtin_tools`); where it
    hides reasoning, answers leave it out."""
    policy = policy if policy is not None else load_policy()
    policy.check_api_server(host)
    check_allowed(policy, identify_config(model.config), f"The model served as {model_id!r}")
    for name in getattr(options.get("builtin_tools"), "offered", ()):
        policy.check_builtin(name)
    options.setdefault("include_reasoning", policy.effective_reasoning_display("shown") != "hidden")
    served = ServedModel(model_id, tokenizer, model.new_session(context))
    server = ApiServer(served, host, port, **options)
    threading.Thread(target=server.serve_forever, name="api-server", daemon=True).start()
    return server


class _Handler(BaseHTTPRequestHandler):
    server: ApiServer
    protocol_version = "HTTP/1.1"
    server_version = "Hearth"
    timeout = 120  # seconds a client may stay silent mid-request before its connection is closed

    # -- routing -------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_POST(self) -> None:
        self._guarded(self._post)

    def version_string(self) -> str:
        return self.server_version  # the Server header names no Python version

    def _other_method(self) -> None:
        self._guarded(self._refuse_method)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_TRACE = do_CONNECT = _other_method

    def _refuse_method(self) -> None:
        raise ApiError(405, f"This server answers GET and POST, not {self.command}.", headers={"Allow": "GET, POST"})

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's answer to a bad request line, an over-long URL or header, or
        an unknown method: as JSON like every other error, not an HTML page."""
        self.close_connection = True
        self.responded = self.body_read = False
        if self.request_version == "HTTP/0.9":  # the line could not be read: answer in HTTP/1.1 all the same
            self.request_version = "HTTP/1.1"
        reason = message or self.responses.get(code, ("Error",))[0]
        with contextlib.suppress(OSError):  # the client is gone
            self._json(code, ApiError(code, f"The request could not be read: {reason}.").body())

    def _path(self) -> str:
        """The route asked for; clients set up with a base URL without /v1 are answered too."""
        path = self.path.split("?", 1)[0].rstrip("/")
        if path in ("/models", "/chat/completions", "/responses") or path.startswith("/models/"):
            path = "/v1" + path
        return path

    def _get(self) -> None:
        path = self._path()
        served = self.server.served
        if path == "/v1/models":
            self._json(200, {"object": "list", "data": [served.card()]})
        elif path == f"/v1/models/{served.model_id}":
            self._json(200, served.card())
        elif path.startswith("/v1/models/"):
            raise ApiError(404, f"The model {path.removeprefix('/v1/models/')!r} does not exist on this server.",
                           code="model_not_found")
        elif path in ("/v1/chat/completions", "/v1/responses"):
            raise ApiError(405, f"{path} takes POST.", headers={"Allow": "POST"})
        else:
            raise ApiError(404, f"There is nothing at {path}; see /v1/models.", code="not_found")

    def _post(self) -> None:
        path = self._path()
        model_id = self.server.served.model_id
        if path == "/v1/chat/completions":
            request = openai_api.chat_request(self._body(), model_id)
            logprobs = request.settings.logprobs is not None
            self._answer(request, whole=lambda answer, rid: openai_api.chat_completion(answer, model_id, rid, logprobs),
                         frames=lambda answer, rid: ChatFrames(answer, model_id, rid, request.include_usage, logprobs))
        elif path == "/v1/responses":
            request = openai_api.responses_request(self._body(), model_id)
            self._answer(request, whole=lambda answer, rid: openai_api.response_object(answer, model_id),
                         frames=lambda answer, rid: ResponseFrames(answer, model_id))
        elif path == "/v1/models":
            raise ApiError(405, "/v1/models takes GET.", headers={"Allow": "GET"})
        else:
            raise ApiError(404, f"There is nothing at {path}.", code="not_found")

    def _guarded(self, work) -> None:
        """Runs a route; every failure becomes an HTTP error, never a dead server thread."""
        self.responded = self.body_read = False
        try:
            self._check_access()
            work()
        except ApiError as error:
            self._error(error)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):  # gone, or stopped reading
            self.close_connection = True
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # also a Rust panic inside a library (pyo3's PanicException is no Exception)
            _log.exception("API request %s %s failed", self.command, self.path)
            self._error(ApiError(500, "The server failed while answering; see its log.", kind="server_error"))

    def _check_access(self) -> None:
        if self.server.loopback and not self.server.api_key:
            # A web page in the person's browser can make it send requests here (DNS rebinding);
            # such requests carry the page's host name, never a loopback one.
            host = _host_name(self.headers.get("Host") or "")
            if host and not is_loopback_host(host):
                raise ApiError(403, f"This server only answers requests addressed to this computer, not {host!r}.",
                               kind="permission_error")
        if self.server.api_key is None:
            return
        given = self.headers.get("Authorization", "")
        key = given.removeprefix("Bearer ").strip() if given.startswith("Bearer ") else ""
        if not hmac.compare_digest(key.encode(), self.server.api_key.encode()):
            raise ApiError(401, "A valid API key is required (Authorization: Bearer <key>).",
                           kind="authentication_error", code="invalid_api_key")

    def _body(self) -> Any:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            raise ApiError(411, "Send the request body with a Content-Length.")
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            raise ApiError(411, "Send the request body with a Content-Length.") from None
        if length < 0:
            self.close_connection = True
            raise ApiError(400, "The Content-Length header must be a whole number of bytes, not negative.")
        if length > self.server.max_body:
            self.close_connection = True  # the body is not read, so the connection cannot be reused
            raise ApiError(413, f"The request is {length} bytes; this server takes at most {self.server.max_body}.")
        raw = self.rfile.read(length)
        self.body_read = True
        kind = self.headers.get("Content-Type", "application/json").split(";")[0].strip().lower()
        if kind != "application/json":
            # Browsers send forms and text/plain across sites without asking; JSON they do not.
            raise ApiError(415, f"The body must be JSON (Content-Type: application/json), not {kind}.")
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ApiError(400, f"The request body is not valid JSON: {error}.") from None
        except RecursionError:
            raise ApiError(400, "The request body is nested too deeply to read.") from None

    # -- one generation ------------------------------------------------------------------
    def _answer(self, request: TurnRequest, whole, frames) -> None:
        """Admits, generates and answers one request: `whole(answer, request_id)` gives the
        JSON body, `frames(answer, request_id)` the stream frames when streaming."""
        served = self.server.served
        prompt = self._prompt(request)
        room = served.context - len(prompt)
        max_tokens = request.max_tokens or room
        if room < 1 or max_tokens > room:
            raise ApiError(400, f"This model's maximum context length is {served.context} tokens. However, you "
                                f"requested {len(prompt) + max(max_tokens, 1)} tokens ({len(prompt)} in the messages, "
                                f"{max(max_tokens, 1)} in the completion). Shorten the messages or the completion.",
                           code="context_length_exceeded", param="messages")
        settings = dataclasses.replace(request.settings, max_new_tokens=max_tokens)
        cancel = threading.Event()
        watch = ClientWatch(self.connection, cancel, self.server.stopping)
        # Writes of this answer block at most send_timeout; reads of a next request keep `timeout`.
        self.connection.settimeout(self.server.send_timeout)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.server.send_buffer_bytes)
        try:
            try:
                if not self.server.admission.enter(cancel):
                    self.close_connection = True  # the client left while waiting
                    return
            except (QueueFull, ShuttingDown) as refusal:
                raise _refusal(refusal, self.server.admission.max_waiting) from None
            tools = self.server.builtin_tools.new_chat()
            try:
                events = answer_in_steps(served.session, served.tokenizer, request.messages, prompt,
                                         lambda chat: self._prompt(request, chat), settings, tools,
                                         {f["name"] for f in function_tools(request.tools)}, cancel)
                stopper = StopSequences(request.stop, cancel) if request.stop else None
                if stopper is not None:
                    events = stopper.filter(events)
                try:  # the prefill runs here: its errors can still be a plain HTTP error
                    first = next(events)
                except HearthError as problem:
                    raise ApiError(500, str(problem), kind="server_error") from None
                events = itertools.chain([first], events)
                request_id = openai_api.completion_id()
                answer = Answer(include_reasoning=self.server.include_reasoning)
                if request.stream:
                    self._stream(events, frames(answer, request_id), cancel)
                    return
                answer = _collect(events, answer)
                if answer.finished is not None and answer.finished.reason == "error":
                    raise ApiError(500, answer.finished.error or "The model stopped with an error.",
                                   kind="server_error")
                if self.server.stopping.is_set():
                    raise _refusal(ShuttingDown(), self.server.admission.max_waiting)
                if cancel.is_set() and not (stopper and stopper.stopped):  # the client left: nobody to answer
                    self.close_connection = True
                    return
                self._json(200, whole(answer, request_id))
            finally:
                tools.close()
                self.server.admission.leave()
        finally:
            watch.stop()
            self.connection.settimeout(self.timeout)

    def _prompt(self, request: TurnRequest, messages: list[dict[str, Any]] | None = None) -> list[int]:
        """The prompt of `request` (or of its `messages` with the answer's built-in calls so far)."""
        try:
            return render_chat(request.messages if messages is None else messages, self.server.served.tokenizer,
                               reasoning_effort=request.settings.reasoning_effort, tools=request.tools,
                               current_date=self.server.current_date, response_format=_json_format(request),
                               builtin_tools=self.server.builtin_tools.offered)
        except HearthError as problem:
            if messages is not None:
                raise  # a later step: the answer ends with the sentence
            raise ApiError(400, str(problem), param="messages") from None

    def _stream(self, events: Iterator[Event], frames, cancel: threading.Event) -> None:
        """Writes `frames` (`ChatFrames` or `ResponseFrames`) for `events` as server-sent events."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.responded = True
        writer = _EventWriter(self.wfile, cancel, event_lines=frames.event_lines)
        writer.send_all(frames.opening())
        for event in events:  # read to the end even once the client is gone: the turn ends cleanly
            writer.send_all(frames.on_event(event))
        finished = frames.answer.finished
        if finished is not None and finished.reason == "error":
            writer.send_all(frames.failure(finished.error or "The model stopped with an error."))
        else:
            writer.send_all(frames.closing())
            if frames.done_marker:
                writer.done()
        writer.close()
        if writer.broken:
            self.close_connection = True

    # -- writing ---------------------------------------------------------------------------
    def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.responded = True
        if self.command != "HEAD":  # a HEAD answer has the headers of the body, never the body
            self.wfile.write(data)

    def _error(self, error: ApiError) -> None:
        if self.responded:
            self.close_connection = True  # headers already went out: nothing sensible can follow
            return
        if self.command == "POST" and not self.body_read:
            # Refused before its body was read: the unread bytes would be taken for the next request.
            self.close_connection = True
        try:
            self._json(error.status, error.body(), error.headers)
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        _log.info("%s %s", self.address_string(), format % args)


def _refusal(refusal: Exception, max_waiting: int) -> ApiError:
    if isinstance(refusal, QueueFull):
        return ApiError(429, f"The server is busy: one answer is being written and {max_waiting} more are waiting. "
                             "Try again shortly.", kind="rate_limit_error", code="queue_full",
                        headers={"Retry-After": "2"})
    return ApiError(503, "The server is shutting down.", kind="server_error", code="unavailable")


def _host_name(header: str) -> str:
    """The host of a Host header: "127.0.0.1:8080" -> "127.0.0.1", "[::1]:80" -> "::1"."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _collect(events: Iterator[Event], answer: Answer) -> Answer:
    for event in events:
        answer.add(event)
    return answer


class _EventWriter:
    """Server-sent events over HTTP/1.1 chunked encoding; a failed write (client gone) sets
    `cancel` and turns later writes into no-ops."""

    def __init__(self, wfile, cancel: threading.Event, event_lines: bool = False):
        self.wfile, self.cancel, self.broken = wfile, cancel, False
        self.event_lines = event_lines  # also name each frame's `type` on an `event:` line

    def send_all(self, payloads: list[dict[str, Any]]) -> None:
        for payload in payloads:
            head = f"event: {payload['type']}\n" if self.event_lines else ""
            self._chunk(f"{head}data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode())

    def done(self) -> None:
        self._chunk(b"data: [DONE]\n\n")

    def close(self) -> None:
        self._write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        self._write(f"{len(data):X}\r\n".encode() + data + b"\r\n")

    def _write(self, data: bytes) -> None:
        if self.broken:
            return
        try:
            self.wfile.write(data)
        except OSError:
            self.broken = True
            self.cancel.set()


def _json_format(request: TurnRequest):
    structure = request.settings.structure
    return structure.json if structure is not None else None
