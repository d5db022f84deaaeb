"""One assistant turn as a stream of events: fit the prompt, prefill, decode, finish.

Owns the turn around the token loop (core/engine/token_loop.py, ids only): fitting and
rendering the prompt (`fit_prompt`), cache reuse (`reuse_cache`), `prefill`, parsing each token
into events, and the turn's figures (token counts, tokens/s, time to first token). The reader gets the harmony parser's
events (text deltas per channel, tool calls ...), `Notice`s, and always a final `Finished`.

Errors found before anything streams (a message too long for the context, bad input) are
raised as typed errors; once streaming has begun, a failure ends the turn with
`Finished(reason="error")` so the text already shown stays meaningful.
"""

from __future__ import annotations

import dataclasses
import datetime
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch

from core.chat.builtin_tools import offered_builtins
from core.chat.events import (
    Event,
    Finished,
    FinishReason,
    MessageEnded,
    MessageStarted,
    Notice,
    PromptProgress,
    Speed,
    TokenLogprob,
    TurnEnded,
)
from core.chat.harmony import drop_oldest_turn, render_chat
from core.chat.harmony_parser import HarmonyStreamParser
from core.chat.structured import Structure, TokenMask
from core.chat.tokenizer import Tokenizer
from core.engine.constants import PREFILL_CHUNK
from core.engine.sampling import Sampler, SamplingParams
from core.engine.token_loop import decode
from core.errors import ContextOverflow, HearthError, InvalidInput

SPEED_EVERY = 0.5   # seconds between two live `Speed` events


class Session(Protocol):
    """What generation needs from `core.engine.model.Session`."""

    tokens: list[int]
    max_tokens: int

    def feed(self, token_ids: Sequence[int]) -> torch.Tensor: ...
    def extend(self, token_ids: Sequence[int]) -> None: ...
    def mark(self) -> None: ...
    def rewind(self, n: int) -> int: ...


@dataclass(frozen=True)
class GenerationSettings:
    sampling: SamplingParams = field(default_factory=SamplingParams)
    max_new_tokens: int = 4096
    reasoning_effort: str = "medium"
    # Tokens the model may think (analysis channel) before it must answer: then the engine ends
    # the analysis message itself and opens the final one. None: no limit.
    reasoning_budget: int | None = None
    # The shape the answer must take (JSON against a schema, a call to a given function); the
    # reasoning stays free. None: free text, as the model likes.
    structure: Structure | None = None
    # Log-probabilities of the answer's tokens, with this many likely alternatives each (0: the
    # chosen token's only). None: not computed.
    logprobs: int | None = None
    # (token id, bias) pairs added to the logits before each choice (-100 bans, +100 forces).
    logit_bias: tuple[tuple[int, float], ...] = ()

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise InvalidInput(f"The answer length limit must be at least 1 token, not {self.max_new_tokens}.")
        if self.reasoning_budget is not None and self.reasoning_budget < 1:
            raise InvalidInput(f"The thinking budget must be at least 1 token, not {self.reasoning_budget}.")


def generate(
    session: Session,
    tokenizer: Tokenizer,
    messages: Sequence[Mapping[str, Any]],
    *,
    settings: GenerationSettings | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
    current_date: str | datetime.date | None = None,
    cancel: threading.Event | None = None,
    clock: Callable[[], float] = time.perf_counter,
    builtin_tools: Sequence[str] = (),
) -> Iterator[Event]:
    """The assistant's next step in `messages` (chat-completions form), streamed as events: up
    to its answer, or to a tool call. `tools` are the function tools offered, `builtin_tools` the
    built-in ones ("browser", "python"); running a built-in call and going on is
    core/chat/tool_turns.py's work.

    `session` keeps its KV cache between calls: when the new prompt extends what it already
    holds, only the new tokens are computed. Setting `cancel` (from any thread) stops the turn
    within one decode step.
    """
    settings = settings or GenerationSettings()
    if settings.structure is not None and builtin_tools:  # the built-ins stay callable on the way to the answer
        settings = dataclasses.replace(settings, structure=dataclasses.replace(
            settings.structure, builtins=offered_builtins(builtin_tools)))
    started = clock()
    room = session.max_tokens - min(settings.max_new_tokens, session.max_tokens // 4)

    def render(chat: Sequence[Mapping[str, Any]]) -> list[int]:
        return render_chat(chat, tokenizer, reasoning_effort=settings.reasoning_effort, tools=tools,
                           current_date=current_date, builtin_tools=builtin_tools,
                           response_format=settings.structure.json if settings.structure else None)

    prompt, dropped = fit_prompt(messages, render, room)
    if dropped:
        turns = "turn was" if dropped == 1 else f"{dropped} turns were"
        yield Notice(f"The conversation is longer than the model can keep in mind: its oldest {turns} "
                     "left out of this answer.", dropped_turns=dropped)
    yield from stream(session, tokenizer, prompt, settings=settings, cancel=cancel, clock=clock,
                      started=started)


def fit_prompt(
    messages: Sequence[Mapping[str, Any]], render: Callable[[Sequence[Mapping[str, Any]]], list[int]], room: int
) -> tuple[list[int], int]:
    """The prompt of `messages` without as few oldest turns as needed to be at most `room`
    tokens long, and how many turns were dropped."""
    prompt = render(messages)
    if len(prompt) <= room:
        return prompt, 0
    shorter = [list(messages)]
    while (fewer := drop_oldest_turn(shorter[-1])) is not None:
        shorter.append(fewer)
    # Binary search for the fewest dropped turns that fit: each render is a full tokenization.
    low, high, best = 1, len(shorter) - 1, None
    while low <= high:
        middle = (low + high) // 2
        candidate = render(shorter[middle])
        if len(candidate) <= room:
            best, high = (candidate, middle), middle - 1
        else:
            low = middle + 1
    if best is None:
        last = render(shorter[-1])
        raise ContextOverflow(
            f"The message is too long for this model: with its instructions it takes {len(last)} tokens, "
            f"and at most {room} fit while leaving room for an answer. Shorten the message or attach less text.")
    return best


def stream(
    session: Session,
    tokenizer: Tokenizer,
    prompt: Sequence[int],
    *,
    settings: GenerationSettings,
    cancel: threading.Event | None = None,
    clock: Callable[[], float] = time.perf_counter,
    started: float | None = None,
) -> Iterator[Event]:
    """Prefill `prompt` (a harmony prompt ending in `<|start|>assistant`) and decode its answer."""
    cancel = cancel or threading.Event()
    started = clock() if started is None else started
    if len(prompt) >= session.max_tokens:
        raise ContextOverflow(f"The prompt takes {len(prompt)} tokens; this model keeps at most "
                              f"{session.max_tokens - 1} plus the answer in mind. Shorten the conversation.")
    chooser = _Chooser(settings, tokenizer)  # a schema it cannot enforce is refused here, before anything
    figures = _Figures(prompt_tokens=len(prompt), started=started)
    reused = figures.reused = reuse_cache(session, prompt)
    try:
        logits = yield from prefill(session, prompt[reused:], cancel)
    except HearthError:
        raise  # nothing streamed yet: the caller shows the sentence
    except Exception as failure:  # an engine bug must not take the app down with it
        yield figures.finish("error", clock(), _internal_error(failure))
        return
    figures.prefilled_at = clock()
    if logits is None:
        yield figures.finish("cancelled", clock())
        return

    parser = HarmonyStreamParser(tokenizer)
    loop = decode(session, logits, chooser, stop=tokenizer.stop_tokens,
                  max_new_tokens=settings.max_new_tokens, cancel=cancel)
    reason: FinishReason = "length"
    error = None
    try:
        while True:
            try:
                token = next(loop)
            except StopIteration as end:
                if end.value == "full":
                    yield Notice("The conversation has filled the model's memory (its context); the answer "
                                 "was cut off. Start a new chat to go on.")
                reason = "length" if end.value == "full" else end.value
                break
            now = clock()
            figures.count_token(now)
            if chooser.logprob is not None and parser.writing_answer and not tokenizer.is_special(token):
                yield chooser.logprob
            events = parser.feed(token)
            chooser.watch(events)
            yield from events
            if (speed := figures.speed(now)) is not None:
                yield speed
            if any(isinstance(e, TurnEnded) for e in events):
                reason = "stop"
                break
    except HearthError as failure:
        reason, error = "error", str(failure)
    except Exception as failure:
        reason, error = "error", _internal_error(failure)
    if reason != "stop":
        yield from parser.finish()
    yield figures.finish(reason, clock(), error)


class _Chooser:
    """Chooses each token of the turn: the reasoning budget's forced tokens first, otherwise a
    sample from the logits, restricted to what the structure's grammar allows when there is one;
    the grammar follows every token chosen. With `settings.logprobs`, `logprob` describes the
    token just chosen (under the model's own distribution, before any restriction)."""

    def __init__(self, settings: GenerationSettings, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self.sampler = Sampler(settings.sampling)
        self.mask = TokenMask(settings.structure, tokenizer) if settings.structure else None
        # With a grammar, the budget only ends the analysis message: the grammar then allows
        # nothing but the way to the answer it describes (final JSON or a call).
        switch = [tokenizer.end] if self.mask else tokenizer.encode(_ReasoningBudget.SWITCH, allow_special=True)
        self.budget = _ReasoningBudget(settings.reasoning_budget, switch)
        self.top = settings.logprobs
        self.logprob: TokenLogprob | None = None
        self.bias = None
        if settings.logit_bias:
            ids, values = zip(*settings.logit_bias, strict=True)
            self.bias = (torch.tensor(ids), torch.tensor(values, dtype=torch.float32))

    def __call__(self, logits: torch.Tensor) -> int:
        token = self.budget.forced()
        if token is None:
            biased = logits
            if self.bias is not None:
                biased = logits.float().index_add(0, self.bias[0], self.bias[1])
            token = self.sampler(self.mask.restrict(biased) if self.mask else biased)
        if self.mask:
            self.mask.accept(token)
        if self.top is not None:
            self.logprob = _logprob(logits, token, self.top, self.tokenizer)
        return token

    def watch(self, events: list[Event]) -> None:
        self.budget.watch(events)


class _ReasoningBudget:
    """Once the analysis message has run `limit` tokens, the next tokens are `switch`: harmony's
    end of that message and the start of the final one, as if the model had written them, so
    it goes on to answer. Without a limit it forces nothing."""

    SWITCH = "<|end|><|start|>assistant<|channel|>final<|message|>"

    def __init__(self, limit: int | None, switch: list[int]):
        self.limit, self.switch = limit, switch
        self.thinking = False
        self.spent = 0
        self.pending: list[int] = []
        self.done = False

    def forced(self) -> int | None:
        return self.pending.pop(0) if self.pending else None

    def watch(self, events: list[Event]) -> None:
        if self.limit is None or self.done:
            return
        for event in events:
            if isinstance(event, MessageStarted):
                self.thinking = event.channel == "analysis"
            elif isinstance(event, MessageEnded):
                self.thinking = False
        if self.thinking:
            self.spent += 1
            if self.spent >= self.limit:
                self.pending, self.done = list(self.switch), True


def _logprob(logits: torch.Tensor, token: int, top: int, tokenizer: Tokenizer) -> TokenLogprob:
    logprobs = torch.log_softmax(logits.float(), dim=-1)  # [V]

    def entry(t: int) -> tuple[str, bytes, float]:
        data = tokenizer.decode_bytes([t])
        return data.decode("utf-8", errors="replace"), data, float(logprobs[t])

    text, data, value = entry(token)
    best = torch.topk(logprobs, top).indices.tolist() if top else []
    return TokenLogprob(text, data, value, tuple(entry(t) for t in best))


def _internal_error(failure: Exception) -> str:
    return f"The model stopped with an internal error ({type(failure).__name__}: {failure})."


def reuse_cache(session: Session, prompt: Sequence[int]) -> int:
    """Rewinds `session` to the longest cached prefix of `prompt` it can restore (keeping at
    least one prompt token to compute, for the logits) and returns that prefix's length."""
    common = 0
    for cached, new in zip(session.tokens, prompt, strict=False):
        if cached != new:
            break
        common += 1
    return session.rewind(min(common, len(prompt) - 1))


def prefill(session: Session, tokens: Sequence[int],
            cancel: threading.Event) -> Generator[PromptProgress, None, torch.Tensor | None]:
    """Feeds the uncached prompt tokens, reporting progress when that takes more than one step;
    returns the logits after the last token, or None if cancelled."""
    body, report = tokens[:-1], len(tokens) > PREFILL_CHUNK
    for start in range(0, len(body), PREFILL_CHUNK):
        if cancel.is_set():
            return None
        # No logits for the body: no lm_head row (1.16 GB read on gpt-oss-20b) per chunk.
        session.extend(list(body[start:start + PREFILL_CHUNK]))
        if report:
            yield PromptProgress(min(start + PREFILL_CHUNK, len(body)), len(tokens))
    if cancel.is_set():
        return None
    # A restore point just before the prompt's last token: the next turn's prompt extends this
    # one, and asking the same prompt again (regenerate) needs to recompute only one token.
    session.mark()
    logits = session.feed(list(tokens[-1:]))
    if report:
        yield PromptProgress(len(tokens), len(tokens))
    return logits


@dataclass
class _Figures:
    """Counts and clock readings for the turn's `Finished` event."""

    prompt_tokens: int
    started: float
    reused: int = 0
    generated: int = 0
    prefilled_at: float = 0.0
    first_token_at: float | None = None

    spoken_at: float | None = None  # when the last `Speed` event was sent

    def count_token(self, now: float) -> None:
        self.generated += 1
        if self.first_token_at is None:
            self.first_token_at = now

    def speed(self, now: float) -> Speed | None:
        """A `Speed` event when one is due (every SPEED_EVERY seconds, from the second token)."""
        first = self.first_token_at
        if first is None or self.generated < 2 or now <= first:
            return None
        if self.spoken_at is not None and now - self.spoken_at < SPEED_EVERY:
            return None
        self.spoken_at = now
        return Speed(self.generated, (self.generated - 1) / (now - first))

    def finish(self, reason: FinishReason, now: float, error: str | None = None) -> Finished:
        computed = self.prompt_tokens - self.reused
        prefill_seconds = self.prefilled_at - self.started
        first = self.first_token_at
        decode_seconds = now - first if first is not None else 0.0
        return Finished(
            reason=reason,
            prompt_tokens=self.prompt_tokens,
            reused_tokens=self.reused,
            generated_tokens=self.generated,
            prompt_tokens_per_second=computed / prefill_seconds if prefill_seconds > 0 else 0.0,
            # The first token comes from the prefill's logits; the rest each cost one decode step.
            decode_tokens_per_second=(self.generated - 1) / decode_seconds if decode_seconds > 0 else 0.0,
            time_to_first_token=(first - self.started) if first is not None else 0.0,
            error=error,
        )
