"""A tiny HTTP server on loopback that answers as a test tells it to: recorded streams, HTTP
errors, a stream cut off part-way, silence. For what a real server cannot be made to do."""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Respond = Callable[["Handler", dict[str, Any]], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeServer

    def log_message(self, *args: Any) -> None:  # quiet tests
        pass

    def do_GET(self) -> None:
        self._answer({})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self._answer(json.loads(raw) if raw else {})

    def _answer(self, body: dict[str, Any]) -> None:
        self.server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        self.server.respond(self, body)

    # -- ways to answer ---------------------------------------------------------------------
    def json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def sse(self, events: list[Any], *, done: bool = True, cut_after: int | None = None,
            chunked: bool = True) -> None:
        """Streams `events` as server-sent events (then `data: [DONE]` when `done`). With
        `cut_after`, the connection is dropped after that many events: mid-chunk when
        `chunked` (an incomplete body), else simply closed (a body that just ends)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.end_headers()
        lines = [f"data: {json.dumps(e)}\n\n" for e in events] + (["data: [DONE]\n\n"] if done else [])
        for n, line in enumerate(lines):
            if cut_after is not None and n == cut_after:
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            self.write(line, chunked)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.close_connection = True

    def write(self, text: str, chunked: bool = True) -> None:
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        self.wfile.flush()


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, respond: Respond, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None):
        super().__init__((host, 0), Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.respond = respond
        self.requests: list[dict[str, Any]] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up on purpose (the tests' cancels and timeouts): nothing to report

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_port}/v1"


@contextlib.contextmanager
def fake_server(respond: Respond, **options: Any) -> Iterator[FakeServer]:
    """`respond(handler, body)` answers each request; `host`, `tls` (a server SSL context): see FakeServer."""
    server = FakeServer(respond, **options)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
