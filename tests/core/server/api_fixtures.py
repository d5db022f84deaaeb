"""Helpers for the API server tests: a running server on loopback, a raw HTTP call, and a
scripted engine session whose answers (reasoning, final text, endless text, a failure) are
fixed in advance, for what a tiny model's weights cannot be made to say."""

from __future__ import annotations

import contextlib
import http.client
import json
import threading
import time
from collections.abc import Iterator

import torch

from core.server.http import ApiServer, ServedModel

VOCAB = 201088


class ScriptedSession:
    """Stands in for `core.engine.model.Session`: after each prompt it answers `reply` token by token
    (again from the start when `loop`), waiting `delay` seconds per feed, whatever was sampled. `prompts` keeps every
    prompt it was given; `decode_steps` counts tokens generated over its life."""

    def __init__(self, tokenizer, reply: str, *, delay: float = 0.0, loop: bool = False, max_tokens: int = 4096,
                 fail_at: int | None = None, margin: float = 1e4):
        self.reply = tokenizer.encode(reply, allow_special=True)
        self.delay, self.loop, self.max_tokens, self.fail_at = delay, loop, max_tokens, fail_at
        self.margin = margin  # how much likelier the scripted token is than every other
        self.tokens: list[int] = []
        self.prompts: list[list[int]] = []
        self.decode_steps = 0
        self._step: int | None = None
        self._prompt_ends = False

    def mark(self) -> None:
        self._prompt_ends = True  # `prefill` marks just before feeding the prompt's last token

    def rewind(self, n: int) -> int:
        del self.tokens[:]
        return 0

    def extend(self, ids) -> None:  # the prompt's body: as feed, without the logits
        self.feed(ids)

    def feed(self, ids) -> torch.Tensor:
        self.tokens += list(ids)
        time.sleep(self.delay)
        if self._prompt_ends:
            self._prompt_ends, self._step = False, 0
            self.prompts.append(list(self.tokens))
        else:
            self._step = (self._step or 0) + 1
            self.decode_steps += 1
            if self.fail_at is not None and self._step == self.fail_at:
                raise RuntimeError("the scripted engine broke")
        step = self._step % len(self.reply) if self.loop else min(self._step, len(self.reply) - 1)
        logits = torch.full((VOCAB,), -self.margin)
        logits[self.reply[step]] = 0.0
        return logits


@contextlib.contextmanager
def running(served: ServedModel, **options) -> Iterator[ApiServer]:
    server = ApiServer(served, "127.0.0.1", 0, current_date="2025-06-28", **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop()
        thread.join(10)


def call(server: ApiServer, method: str, path: str, body=None, headers: dict | None = None,
         raw: bytes | None = None) -> tuple[int, dict, dict]:
    """(status, JSON body, headers) of one request on a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
    try:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else {}, dict(response.headers)
    finally:
        connection.close()
