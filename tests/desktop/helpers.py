"""Shared pieces of the desktop tests: a scripted chat session and a wait helper.

`ScriptedSession` stands in for the transformer only: it satisfies `core.chat.generate`'s Session
protocol and, at temperature 0, makes generation emit a fixed harmony text token by token, so
the real `core.chat.generate`, harmony parser, tokenizer, worker thread and widgets all run while
the output (reasoning, then a Markdown answer) is known in advance.
"""

from __future__ import annotations

import threading
import time

import torch

from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
from desktop.workers.engine_adapter import Engine

VOCAB = 201088
REASONING = "The user greets me. I should answer kindly."
ANSWER = "Hello! Here is **a list**:\n\n- one\n- two\n\n```python\nprint('hi')\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |"
SCRIPT = (f"<|channel|>analysis<|message|>{REASONING}<|end|>"
          f"<|start|>assistant<|channel|>final<|message|>{ANSWER}<|return|>")

_tokenizer = None
_tokenizer_lock = threading.Lock()


def tokenizer():
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            _tokenizer = load_tokenizer(shipped_vocabulary())
        return _tokenizer


class ScriptedSession:
    """`step_seconds` per decoded token; `read_seconds` per prompt step (a chunk of a long
    prompt), to make reading a long message take time."""

    def __init__(self, script: list[int], step_seconds: float = 0.0, max_tokens: int = 8192,
                 read_seconds: float = 0.0):
        self.script = script
        self.step_seconds = step_seconds
        self.read_seconds = read_seconds
        self.prompt_steps = 0
        self.max_tokens = max_tokens
        self.tokens: list[int] = []
        self.decode_steps = 0
        self._pos = 0

    def extend(self, ids) -> None:  # the prompt's body: as feed, without the logits
        self.feed(ids)

    def feed(self, token_ids) -> torch.Tensor:
        ids = list(token_ids)
        decoding = len(ids) == 1 and 0 < self._pos <= len(self.script) and ids[0] == self.script[self._pos - 1]
        if decoding:
            self.decode_steps += 1
            time.sleep(self.step_seconds)
        else:
            self._pos = 0  # a prompt: the script starts again
            self.prompt_steps += 1
            time.sleep(self.read_seconds)
        self.tokens.extend(ids)
        logits = torch.zeros(VOCAB)
        logits[self.script[min(self._pos, len(self.script) - 1)]] = 10.0
        self._pos += 1
        return logits

    def mark(self) -> None:
        pass

    def rewind(self, n: int) -> int:
        del self.tokens[n:]
        return len(self.tokens)


def scripted_loader(text: str = SCRIPT, step_seconds: float = 0.0, sessions: list | None = None,
                    read_seconds: float = 0.0):
    """A `load_fn` for InferenceWorker that "loads" a ScriptedSession instead of weights."""

    def load(_request, _progress=None, _cancel=None):
        tok = tokenizer()
        session = ScriptedSession(tok.encode(text, allow_special=True), step_seconds, read_seconds=read_seconds)
        if sessions is not None:
            sessions.append(session)
        return Engine(tok, session, 8192)

    return load


def wait_until(qtbot, predicate, timeout: float = 20.0) -> None:
    qtbot.waitUntil(lambda: bool(predicate()), timeout=int(timeout * 1000))


class RoundsSession(ScriptedSession):
    """A turn in rounds, as a turn with built-in tools is made (the model calls, the tool answers,
    the model goes on): each prompt plays `scripts[k]`, where k is the number of `<|call|>` tokens
    in the context (the calls already answered), the last script for any round after it."""

    def __init__(self, scripts: list[list[int]], call_token: int, step_seconds: float = 0.0):
        super().__init__(scripts[0], step_seconds)
        self.scripts, self.call_token = scripts, call_token

    def feed(self, token_ids) -> torch.Tensor:
        ids = list(token_ids)
        decoding = len(ids) == 1 and 0 < self._pos <= len(self.script) and ids[0] == self.script[self._pos - 1]
        if not decoding:
            calls = (self.tokens + ids).count(self.call_token)
            self.script = self.scripts[min(calls, len(self.scripts) - 1)]
        return super().feed(ids)


def rounds_loader(texts: list[str], step_seconds: float = 0.0):
    """A `load_fn` whose model answers in rounds: `texts[k]` after k tool calls (harmony text after
    `<|start|>assistant`, ending in `<|call|>` or `<|return|>`)."""

    def load(_request, _progress=None, _cancel=None):
        tok = tokenizer()
        scripts = [tok.encode(text, allow_special=True) for text in texts]
        return Engine(tok, RoundsSession(scripts, tok.encode("<|call|>", allow_special=True)[0], step_seconds), 8192)

    return load
