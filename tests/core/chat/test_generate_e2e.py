"""Generation through the real loader and engine, on tiny checkpoints with the full
o200k_harmony vocabulary: a scripted one (predictable answers) and a random one (for
checking that cache reuse changes no logits)."""

from __future__ import annotations

import threading

import pytest
import torch

from core import load_model
from core.chat.conversation import Conversation
from core.chat.events import Finished, Notice, TextDelta, ToolCall
from core.chat.generate import GenerationSettings, generate
from core.chat.tokenizer import load_tokenizer
from core.engine.sampling import SamplingParams
from core.engine.testing import tiny_config, write_checkpoint
from core.errors import ContextOverflow
from tests.scripted_checkpoint import script_transitions, write_scripted_checkpoint

DATE = "2025-06-28"
GREEDY = GenerationSettings(SamplingParams(temperature=0.0), max_new_tokens=40)


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    """A model that answers every question with "Hello world!" on the final channel."""
    folder = tmp_path_factory.mktemp("scripted")
    tok = load_tokenizer(folder)  # no tokenizer files: the shipped vocabulary
    script = [tok.start, *tok.encode("assistant"),
              *tok.encode("<|channel|>final<|message|>Hello world!<|return|>", allow_special=True)]
    write_scripted_checkpoint(folder, script_transitions(script), default=tok.encode(" blah")[0])
    return load_model(folder, dtype=torch.float32), tok


def final_text(events):
    return "".join(e.text for e in events if isinstance(e, TextDelta) and e.channel == "final")


def test_multi_turn_chat_reuses_the_cache(scripted):
    model, tok = scripted
    chat = Conversation(model.new_session(), tok, system="Be kind.", settings=GREEDY, current_date=DATE)
    first = list(chat.send("Hi"))
    assert final_text(first) == "Hello world!"
    second = list(chat.send("And again?"))
    assert final_text(second) == "Hello world!"
    one, two = first[-1], second[-1]
    assert one.reason == two.reason == "stop"
    assert one.reused_tokens == 0
    # The history now holds turn one exactly as the session saw it, so everything fed is reused:
    # the first prompt and the answer (all but its stop token, which is never fed).
    assert two.reused_tokens == one.prompt_tokens + one.generated_tokens - 1
    assert [m["role"] for m in chat.messages] == ["system", "user", "assistant", "user", "assistant"]
    assert chat.messages[-1]["content"] == "Hello world!"


def test_cancel_from_another_thread_through_the_engine(scripted, tmp_path):
    _, tok = scripted
    endless = [tok.start, *tok.encode("assistant"), *tok.encode("<|channel|>final<|message|>", allow_special=True),
               *tok.encode(" word"), *tok.encode(" word")]
    write_scripted_checkpoint(tmp_path, script_transitions(endless), default=tok.encode(" blah")[0])
    model = load_model(tmp_path, dtype=torch.float32)
    cancel = threading.Event()
    chat = Conversation(model.new_session(), tok, settings=GenerationSettings(SamplingParams(temperature=0),
                                                                              max_new_tokens=10_000))
    events = []
    for event in chat.send("Talk forever", cancel=cancel):
        events.append(event)
        if isinstance(event, TextDelta) and event.text == " word" and not cancel.is_set():
            threading.Timer(0.2, cancel.set).start()
    done = events[-1]
    assert done.reason == "cancelled" and done.generated_tokens < 10_000
    assert chat.messages[-1]["content"].startswith(" word word")  # the partial answer is kept


def test_overflow_drops_old_turns_then_refuses_a_huge_message(scripted):
    model, tok = scripted
    chat = Conversation(model.new_session(max_tokens=400), tok, settings=GREEDY, current_date=DATE)
    notices = []
    for i in range(10):
        events = list(chat.send(f"Question number {i}: " + "tell me more " * 10))
        assert final_text(events) == "Hello world!"
        assert isinstance(events[-1], Finished) and events[-1].prompt_tokens <= 400 - GREEDY.max_new_tokens
        notices += [e for e in events if isinstance(e, Notice)]
    assert notices and notices[-1].dropped_turns >= 2
    with pytest.raises(ContextOverflow, match="too long"):
        list(chat.send("word " * 500))
    assert chat.messages[-1]["role"] == "assistant"  # the refused message did not join the history


def test_reused_cache_gives_the_same_tokens_as_a_fresh_prefill(tmp_path):
    # Random weights: any mistake in rewinding would change the logits and so the greedy tokens.
    config = tiny_config(vocab_size=201088, sliding_window=8)
    write_checkpoint(tmp_path, config, seed=3)
    model = load_model(tmp_path, dtype=torch.float32)
    tok = load_tokenizer(tmp_path)
    settings = GenerationSettings(SamplingParams(temperature=0.0), max_new_tokens=6)
    chat = [{"role": "user", "content": "First question, long enough to fill the sliding window twice over."},
            {"role": "assistant", "content": "An answer."}, {"role": "user", "content": "Second one"}]
    kept = model.new_session()
    list(generate(kept, tok, chat[:1], settings=settings, current_date=DATE))
    reused = list(generate(kept, tok, chat, settings=settings, current_date=DATE))
    assert reused[-1].reused_tokens > 2 * config.sliding_window
    fresh = model.new_session()
    computed = list(generate(fresh, tok, chat, settings=settings, current_date=DATE))
    assert computed[-1].reused_tokens == 0
    assert kept.tokens == fresh.tokens
    assert reused[-1].generated_tokens == computed[-1].generated_tokens == 6


def test_tool_call_and_result_round_trip(tmp_path):
    tok = load_tokenizer(tmp_path)
    call = "<|channel|>commentary to=functions.lookup <|constrain|>json<|message|>{\"city\":\"Oslo\"}<|call|>"
    script = [tok.start, *tok.encode("assistant"), *tok.encode(call, allow_special=True)]
    write_scripted_checkpoint(tmp_path, script_transitions(script), default=tok.encode(" blah")[0])
    model = load_model(tmp_path, dtype=torch.float32)
    lookup = {"type": "function", "function": {"name": "lookup", "description": "Weather by city.",
                                               "parameters": {"type": "object",
                                                              "properties": {"city": {"type": "string"}}}}}
    chat = Conversation(model.new_session(), tok, settings=GREEDY, tools=[lookup], current_date=DATE)
    first = list(chat.send("Weather in Oslo?"))
    assert ToolCall("functions.lookup", '{"city":"Oslo"}', "<|constrain|>json") in first
    assert first[-1].reason == "stop"
    assert chat.messages[-1]["tool_calls"][0]["function"] == {"name": "lookup", "arguments": '{"city":"Oslo"}'}
    second = list(chat.add_tool_result(chat.messages[-1]["tool_calls"][0]["id"], '{"temp": 3}'))
    assert second[-1].reused_tokens > 0
    prompt = tok.decode(chat.session.tokens)
    assert "<|start|>functions.lookup to=assistant<|channel|>commentary<|message|>{\"temp\": 3}<|end|>" in prompt
    assert "Calls to these tools must go to the commentary channel: 'functions'." in prompt
