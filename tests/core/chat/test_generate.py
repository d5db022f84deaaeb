"""The generation loop on a scripted stand-in for the engine's Session: events, stop tokens,
length limit, cancellation (same thread and another thread), context overflow, errors,
multi-turn cache reuse, and the turn's figures under a controlled clock."""

from __future__ import annotations

import threading
import time
from itertools import pairwise

import pytest
import torch

from core.chat.events import (
    Finished,
    MessageEnded,
    Notice,
    PromptProgress,
    Speed,
    TextDelta,
    ToolCall,
    TurnEnded,
)
from core.chat.generate import GenerationSettings, generate
from core.chat.harmony import render_chat
from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
from core.engine.constants import PREFILL_CHUNK
from core.engine.sampling import SamplingParams
from core.errors import ContextOverflow, InvalidInput

DATE = "2025-06-28"
GREEDY = GenerationSettings(sampling=SamplingParams(temperature=0.0))


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(shipped_vocabulary())


class ScriptedSession:
    """Answers each turn with `reply`: after `<|start|>assistant` and n reply tokens, its logits
    point at reply[n]. Keeps the engine Session's bookkeeping (tokens, marks, rewind) and a log of
    what was fed; `clock` advances 1 ms per prompt token and 10 ms per decode step."""

    def __init__(self, tok, reply: str, max_tokens: int = 4096):
        self.tok = tok
        self.reply = tok.encode(reply, allow_special=True)
        self.max_tokens = max_tokens
        self.tokens: list[int] = []
        self.marks: list[int] = []
        self.fed: list[int] = []  # sizes of the feed calls
        self.now = 0.0
        self.fail_at: int | None = None  # raise on this decode step
        self.delay = 0.0
        self.decode_steps = 0
        self.assistant = [tok.start, *tok.encode("assistant")]

    def clock(self) -> float:
        return self.now

    def extend(self, ids) -> None:  # the prompt's body: as feed, without the logits
        self.feed(ids)

    def feed(self, ids):
        ids = list(ids)
        if len(self.tokens) + len(ids) > self.max_tokens:
            raise ContextOverflow("full")
        self.tokens += ids
        n = self._reply_written()
        if 0 < n <= len(self.reply):  # a reply token: a decode step
            self.decode_steps += 1
            if self.fail_at == self.decode_steps:
                del self.tokens[-1:]
                raise RuntimeError("kernel exploded")
            self.now += 0.010
        else:
            self.now += 0.001 * len(ids)
        time.sleep(self.delay)
        self.fed.append(len(ids))
        logits = torch.full((201088,), -10.0)
        logits[self.reply[n] if 0 <= n < len(self.reply) else self.tok.encode(" more")[0]] = 10.0
        return logits

    def _reply_written(self) -> int:
        # The turn began at the first `<|start|>assistant` that the reply so far follows.
        for start in range(len(self.tokens) - 1):
            if self.tokens[start:start + 2] == self.assistant:
                written = self.tokens[start + 2:]
                if written == self.reply[:len(written)]:
                    return len(written)
        return -1  # still inside the prompt

    def mark(self):
        self.marks.append(len(self.tokens))

    def rewind(self, n):
        if n >= len(self.tokens):
            return len(self.tokens)
        self.marks = [m for m in self.marks if m <= n]
        position = self.marks[-1] if self.marks else 0
        del self.tokens[position:]
        return position


ANSWER = ("<|channel|>analysis<|message|>The user says hi.<|end|>"
          "<|start|>assistant<|channel|>final<|message|>Hello! 👋<|return|>")
HI = [{"role": "user", "content": "Hi"}]


def run(session, tok, messages, **kwargs):
    kwargs.setdefault("settings", GREEDY)
    return list(generate(session, tok, messages, current_date=DATE, clock=session.clock, **kwargs))


def text(events, channel):
    return "".join(e.text for e in events if isinstance(e, TextDelta) and e.channel == channel)


def test_a_turn_streams_reasoning_then_answer(tok):
    session = ScriptedSession(tok, ANSWER)
    events = run(session, tok, HI)
    assert text(events, "analysis") == "The user says hi."
    assert text(events, "final") == "Hello! 👋"
    assert TurnEnded("return") in events
    done = events[-1]
    prompt = render_chat(HI, tok, current_date=DATE)
    assert done == Finished(reason="stop", prompt_tokens=len(prompt), reused_tokens=0,
                            generated_tokens=len(session.reply), prompt_tokens_per_second=pytest.approx(1000),
                            decode_tokens_per_second=pytest.approx(100),
                            time_to_first_token=pytest.approx(0.001 * len(prompt)))
    # The stop token is not fed: the next prompt writes that message's end as <|end|>.
    assert session.tokens == prompt + session.reply[:-1]


def test_the_live_speed_comes_from_the_core_about_twice_a_second(tok):
    session = ScriptedSession(tok, "<|channel|>final<|message|>" + " word" * 150 + "<|return|>")
    events = run(session, tok, HI)
    speeds = [e for e in events if isinstance(e, Speed)]
    # 10 ms per step: from the second token on, one figure per 0.5 s of decoding, each exact.
    assert speeds[0].generated_tokens == 2 and len(speeds) == 1 + (len(session.reply) - 2) // 50
    assert all(s.tokens_per_second == pytest.approx(100) for s in speeds)
    assert [b.generated_tokens - a.generated_tokens for a, b in pairwise(speeds)] == [50] * (len(speeds) - 1)


def test_length_limit_closes_the_open_message(tok):
    session = ScriptedSession(tok, "<|channel|>final<|message|>one two three four five six<|return|>")
    events = run(session, tok, HI, settings=GenerationSettings(SamplingParams(temperature=0), max_new_tokens=6))
    assert events[-1].reason == "length" and events[-1].generated_tokens == 6
    assert isinstance(events[-2], MessageEnded) and events[-2].text == "one two three"


def test_tool_call_ends_the_turn(tok):
    session = ScriptedSession(tok, "<|channel|>commentary to=functions.lookup <|constrain|>json"
                                   "<|message|>{\"q\": 1}<|call|>")
    events = run(session, tok, HI)
    assert ToolCall("functions.lookup", '{"q": 1}', "<|constrain|>json") in events
    assert events[-1].reason == "stop"


def test_cancel_takes_effect_before_the_next_decode_step(tok):
    session = ScriptedSession(tok, ANSWER)
    cancel = threading.Event()
    events = []
    for event in generate(session, tok, HI, settings=GREEDY, current_date=DATE, cancel=cancel, clock=session.clock):
        events.append(event)
        if isinstance(event, TextDelta) and event.channel == "analysis":
            cancel.set()
            steps = session.decode_steps
    assert events[-1].reason == "cancelled"
    assert session.decode_steps == steps  # not one more step after the request
    assert isinstance(events[-2], MessageEnded)  # the open message is closed for the reader


def test_cancel_from_another_thread(tok):
    session = ScriptedSession(tok, "<|channel|>final<|message|>" + "word " * 500)
    session.delay = 0.002
    cancel = threading.Event()
    seen = []

    def press_stop():
        while session.decode_steps < 5:
            time.sleep(0.0005)
        seen.append(session.decode_steps)
        cancel.set()

    threading.Thread(target=press_stop, daemon=True).start()
    events = run(session, tok, HI, cancel=cancel)
    assert events[-1].reason == "cancelled"
    assert session.decode_steps <= seen[0] + 1  # at most the step already under way


def test_cancel_during_prefill(tok):
    session = ScriptedSession(tok, ANSWER)
    cancel = threading.Event()
    cancel.set()
    long_chat = [{"role": "user", "content": "word " * (3 * PREFILL_CHUNK)}]
    events = run(session, tok, long_chat, cancel=cancel)
    assert [type(e) for e in events] == [Finished]
    assert events[0].reason == "cancelled" and events[0].generated_tokens == 0
    assert session.fed == []


def test_long_prompt_is_fed_in_steps_with_progress(tok):
    session = ScriptedSession(tok, ANSWER)
    events = run(session, tok, [{"role": "user", "content": "word " * (3 * PREFILL_CHUNK)}])
    total = events[-1].prompt_tokens
    assert session.fed[:5] == [PREFILL_CHUNK] * 3 + [total - 3 * PREFILL_CHUNK - 1, 1]
    progress = [e for e in events if isinstance(e, PromptProgress)]
    assert progress == [PromptProgress(PREFILL_CHUNK, total), PromptProgress(2 * PREFILL_CHUNK, total),
                        PromptProgress(3 * PREFILL_CHUNK, total), PromptProgress(total - 1, total),
                        PromptProgress(total, total)]
    assert events.index(progress[-1]) < min(events.index(e) for e in events if isinstance(e, TextDelta))


def test_short_prompt_reports_no_progress(tok):
    events = run(ScriptedSession(tok, ANSWER), tok, HI)
    assert not any(isinstance(e, PromptProgress) for e in events)


def test_second_turn_reuses_the_cached_prompt(tok):
    session = ScriptedSession(tok, ANSWER)
    first = run(session, tok, HI)
    chat = [*HI, {"role": "assistant", "reasoning": "The user says hi.", "content": "Hello! 👋"},
            {"role": "user", "content": "How are you?"}]
    session.fed.clear()
    second = run(session, tok, chat)
    done = second[-1]
    assert done.reason == "stop"
    # All of the first prompt but its last token (the restore point) is reused.
    assert done.reused_tokens == first[-1].prompt_tokens - 1
    assert sum(session.fed[:2]) == done.prompt_tokens - done.reused_tokens  # only the new part


def test_same_prompt_again_computes_one_token(tok):
    session = ScriptedSession(tok, ANSWER)
    run(session, tok, HI)
    session.fed.clear()
    done = run(session, tok, HI)[-1]
    assert done.reused_tokens == done.prompt_tokens - 1
    assert session.fed[0] == 1  # straight to the last prompt token


def test_oldest_turns_are_dropped_with_a_notice(tok):
    history = []
    for i in range(12):
        history += [{"role": "user", "content": f"Question {i}: " + "blah " * 40},
                    {"role": "assistant", "content": f"Answer {i}: " + "blah " * 40}]
    chat = [{"role": "system", "content": "Be brief."}, *history, {"role": "user", "content": "Last one?"}]
    session = ScriptedSession(tok, ANSWER, max_tokens=1000)
    settings = GenerationSettings(SamplingParams(temperature=0), max_new_tokens=200)
    events = run(session, tok, chat, settings=settings)
    notice = events[0]
    assert isinstance(notice, Notice) and notice.dropped_turns > 0
    assert "oldest" in notice.text
    done = events[-1]
    assert done.reason == "stop" and done.prompt_tokens <= 1000 - 200
    # The fewest turns were dropped: one turn fewer would not have fit.
    kept = [m for m in chat if m["role"] == "system"] + history[2 * (notice.dropped_turns - 1):] + chat[-1:]
    assert len(render_chat(kept, tok, current_date=DATE)) > 800
    prompt = tok.decode(session.tokens)
    assert "Be brief." in prompt and "Last one?" in prompt and "Question 0:" not in prompt


def test_a_single_message_too_long_is_a_clear_error(tok):
    session = ScriptedSession(tok, ANSWER, max_tokens=300)
    with pytest.raises(ContextOverflow, match="The message is too long for this model"):
        run(session, tok, [{"role": "user", "content": "blah " * 400}])


def test_context_filling_up_while_answering(tok):
    session = ScriptedSession(tok, "<|channel|>final<|message|>" + "word " * 100)
    prompt = len(render_chat(HI, tok, current_date=DATE))
    session.max_tokens = prompt + 30  # the prompt fits, with less room than the 50 tokens asked
    events = run(session, tok, HI, settings=GenerationSettings(SamplingParams(temperature=0), max_new_tokens=50))
    assert events[-1].reason == "length"
    assert any(isinstance(e, Notice) and "filled" in e.text for e in events)
    assert len(session.tokens) == session.max_tokens


def test_an_engine_failure_ends_the_turn_with_an_error(tok):
    session = ScriptedSession(tok, "<|channel|>final<|message|>Some words before the crash<|return|>")
    session.fail_at = 6
    events = run(session, tok, HI)
    done = events[-1]
    assert done.reason == "error" and "kernel exploded" in done.error
    assert text(events, "final")  # what was shown stays


def test_an_engine_failure_during_prefill(tok):
    session = ScriptedSession(tok, ANSWER)

    def broken(ids):
        raise RuntimeError("out of workspace")

    session.feed = broken
    events = run(session, tok, HI)
    assert [type(e) for e in events] == [Finished]
    assert events[0].reason == "error" and "RuntimeError: out of workspace" in events[0].error


def test_seeded_sampling_is_reproducible(tok):
    def once():
        session = ScriptedSession(tok, "<|channel|>final<|message|>" + "word " * 50)
        settings = GenerationSettings(SamplingParams(temperature=1.0, seed=5), max_new_tokens=20)
        original = session.feed

        def noisy(ids):  # flat-ish logits so sampling really chooses
            logits = original(ids)
            return logits / 5 + torch.randn(len(logits), generator=torch.Generator().manual_seed(len(ids)))

        session.feed = noisy
        run(session, tok, HI, settings=settings)
        return session.tokens

    assert once() == once()


def test_invalid_settings():
    with pytest.raises(InvalidInput):
        GenerationSettings(max_new_tokens=0)
