"""Streaming parse of model output: events for well-formed turns (checked against the reference
parser), UTF-8 safety, and malformed output reported without crashing."""

from __future__ import annotations

import pytest

from core.chat.answer import Answer
from core.chat.detokenizer import StreamingDetokenizer
from core.chat.events import Malformed, MessageEnded, MessageStarted, TextDelta, ToolCall, TurnEnded
from core.chat.harmony import render_chat
from core.chat.harmony_parser import MAX_HEADER_TOKENS, HarmonyStreamParser
from core.chat.tokenizer import load_tokenizer, shipped_vocabulary


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(shipped_vocabulary())


def parse(tok, text, *, finish=False):
    """All events for the model output `text` (special tokens written as `<|...|>`)."""
    parser = HarmonyStreamParser(tok)
    events = []
    for token in tok.encode(text, allow_special=True):
        events += parser.feed(token)
    if finish:
        events += parser.finish()
    return parser, events


def joined(events, channel):
    return "".join(e.text for e in events if isinstance(e, TextDelta) and e.channel == channel)


def test_reasoning_then_answer(tok):
    parser, events = parse(tok, "<|channel|>analysis<|message|>User greets.<|end|>"
                                "<|start|>assistant<|channel|>final<|message|>Hello there!<|return|>")
    structure = [e for e in events if not isinstance(e, TextDelta)]
    assert structure == [
        MessageStarted("analysis"), MessageEnded("analysis", "User greets."),
        MessageStarted("final"), MessageEnded("final", "Hello there!"), TurnEnded("return"),
    ]
    assert joined(events, "analysis") == "User greets."
    assert joined(events, "final") == "Hello there!"
    assert parser.turn_ended
    assert Answer.of(events).message() == {"role": "assistant", "content": "Hello there!",
                                           "reasoning": "User greets."}


@pytest.mark.parametrize("header", [
    "<|channel|>commentary to=functions.get_weather <|constrain|>json",  # what gpt-oss usually writes
    " to=functions.get_weather<|channel|>commentary <|constrain|>json",  # the reference renderer's order
])
def test_tool_call(tok, header):
    _, events = parse(tok, "<|channel|>analysis<|message|>Need weather.<|end|><|start|>assistant"
                                f"{header}<|message|>{{\"city\": \"Oslo\"}}<|call|>")
    call = ToolCall("functions.get_weather", '{"city": "Oslo"}', "<|constrain|>json")
    assert call in events and call.name == "get_weather"
    assert MessageStarted("commentary", "functions.get_weather", "<|constrain|>json") in events
    assert events[-1] == TurnEnded("call")
    assert not any(isinstance(e, Malformed) for e in events)
    [entry] = Answer.of(events).message()["tool_calls"]
    assert entry["id"].startswith("call_") and entry["type"] == "function"
    assert entry["function"] == {"name": "get_weather", "arguments": '{"city": "Oslo"}'}


def test_bare_content_type_word(tok):
    _, events = parse(tok, "<|channel|>commentary to=functions.f json<|message|>{}<|call|>")
    assert ToolCall("functions.f", "{}", "json") in events


def test_matches_reference_parser(tok, monkeypatch):
    import openai_harmony as h

    monkeypatch.setenv("TIKTOKEN_ENCODINGS_BASE", str(shipped_vocabulary().parent))  # no download
    encoding = h.load_harmony_encoding(h.HarmonyEncodingName.HARMONY_GPT_OSS)
    text = ("<|channel|>analysis<|message|>Think 🤔 hard.<|end|><|start|>assistant<|channel|>commentary"
            " to=functions.lookup <|constrain|>json<|message|>{\"q\": \"東京\"}<|call|>")
    ids = tok.encode(text, allow_special=True)
    reference = encoding.parse_messages_from_completion_tokens(ids, h.Role.ASSISTANT)
    parser, _ = parse(tok, text)
    ours = [(m.channel, m.recipient, m.content_type, m.text) for m in parser.messages]
    theirs = [(m.channel, m.recipient, m.content_type, m.content[0].text) for m in reference]
    assert ours == theirs


def test_split_characters_are_never_emitted_half(tok):
    answer = "🧠👨‍👩‍👧 東京 naïve 🇯🇵"
    _, events = parse(tok, f"<|channel|>final<|message|>{answer}<|return|>")
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(deltas) == answer
    assert not any("\ufffd" in d for d in deltas)
    assert len(deltas) < len(tok.encode(answer))  # some tokens completed no character


def test_detokenizer_flushes_an_unfinished_character(tok):
    detok = StreamingDetokenizer(tok)
    first = tok.encode("🧠")[0]
    assert detok.add(first) == ""
    assert detok.finish() == "\ufffd"
    assert detok.add(tok.encode("ok")[0]) == "ok"  # reusable after finish


def malformed(events):
    return [e.problem for e in events if isinstance(e, Malformed)]


def test_missing_channel_is_reported_and_shown_as_answer(tok):
    _, events = parse(tok, "<|message|>Hi<|return|>")
    assert malformed(events) == ["The model started a message with no channel; it is shown as the answer."]
    assert joined(events, "final") == "Hi"


def test_unknown_channel(tok):
    _, events = parse(tok, "<|channel|>secret<|message|>Hi<|end|>")
    assert "unknown channel 'secret'" in malformed(events)[0]
    assert MessageEnded("final", "Hi") in events


def test_text_after_return_is_reported_once(tok):
    _, events = parse(tok, "<|channel|>final<|message|>Done<|return|>more text and more")
    assert events[-2:] == [TurnEnded("return"),
                           Malformed("The model kept writing after it ended its answer; the rest is ignored.")]


def test_text_outside_a_message(tok):
    _, events = parse(tok, "<|channel|>final<|message|>A<|end|>stray<|return|>")
    assert "outside a message" in malformed(events)[0]
    assert joined(events, "final") == "Astray"
    assert events[-1] == TurnEnded("return")


def test_header_that_never_ends(tok):
    ramble = "word " * (MAX_HEADER_TOKENS + 5)
    _, events = parse(tok, f"<|channel|>{ramble}", finish=True)
    assert "never ended" in malformed(events)[0]
    assert len(malformed(events)) == 1
    assert joined(events, "final").startswith("word word")


def test_stop_inside_header(tok):
    _, events = parse(tok, "<|channel|>fin<|return|>")
    assert events == [Malformed("The model ended its turn inside a message header."), TurnEnded("return")]


def test_control_token_inside_content_is_left_out(tok):
    _, events = parse(tok, "<|channel|>final<|message|>a<|channel|>b<|return|>")
    assert "<|channel|>" in malformed(events)[0]
    assert MessageEnded("final", "ab") in events


def test_new_message_without_end(tok):
    _, events = parse(tok, "<|channel|>analysis<|message|>x<|start|>assistant<|channel|>final<|message|>y<|return|>")
    assert "without ending" in malformed(events)[0]
    assert MessageEnded("analysis", "x") in events and MessageEnded("final", "y") in events


def test_message_from_another_role(tok):
    _, events = parse(tok, "<|channel|>final<|message|>a<|end|><|start|>user<|channel|>final<|message|>b<|end|>")
    assert "as 'user'" in malformed(events)[0]


def test_call_without_recipient(tok):
    _, events = parse(tok, "<|channel|>commentary<|message|>x<|call|>")
    assert "named no tool" in malformed(events)[0]
    assert events[-1] == TurnEnded("call")


def test_finish_closes_an_open_message(tok):
    parser, events = parse(tok, "<|channel|>final<|message|>Half an ans", finish=True)
    assert events[-1] == MessageEnded("final", "Half an ans")
    assert not parser.turn_ended


def test_finish_inside_header(tok):
    _, events = parse(tok, "<|channel|>fi", finish=True)
    assert malformed(events) == ["The model's output stopped inside a message header."]


def test_endoftext_ends_the_turn(tok):
    _, events = parse(tok, "<|channel|>final<|message|>a<|end|><|endoftext|>")
    assert events[-1] == TurnEnded("endoftext")


# Built-in calls, as gpt-oss writes them: either channel, the recipient before or after the
# channel, and any content type.
@pytest.mark.parametrize("header", [
    "<|channel|>analysis to=browser.search code",  # what gpt-oss usually writes
    " to=browser.search<|channel|>analysis code",  # the reference renderer's order
    " to=browser.search code<|channel|>analysis",
    "<|channel|>commentary to=browser.search <|constrain|>json",
    "<|channel|>commentary to=browser.search json",
    "<|channel|>analysis to=browser.search",
])
def test_builtin_call(tok, monkeypatch, header):
    import openai_harmony as h

    text = ("<|channel|>analysis<|message|>Search the documents.<|end|><|start|>assistant"
            f"{header}<|message|>{{\"query\": \"東京 tower\", \"topn\": 5}}<|call|>")
    parser, events = parse(tok, text)
    [call] = [e for e in events if isinstance(e, ToolCall)]
    assert call.recipient == call.name == "browser.search" and call.builtin
    assert call.arguments == '{"query": "東京 tower", "topn": 5}'
    assert events[-1] == TurnEnded("call") and not malformed(events)
    monkeypatch.setenv("TIKTOKEN_ENCODINGS_BASE", str(shipped_vocabulary().parent))  # no download
    encoding = h.load_harmony_encoding(h.HarmonyEncodingName.HARMONY_GPT_OSS)
    reference = encoding.parse_messages_from_completion_tokens(tok.encode(text, allow_special=True), h.Role.ASSISTANT)
    assert [(m.channel, m.recipient, m.content_type, m.text) for m in parser.messages] == \
           [(m.channel, m.recipient, m.content_type, m.content[0].text) for m in reference]
    answer = Answer.of(events)
    assert [(c.name, c.builtin) for c in answer.calls] == [("browser.search", True)]
    assert answer.reasoning == "Search the documents." and answer.content == ""
    assert answer.message()["tool_calls"][0]["function"] == {"name": "browser.search", "arguments": call.arguments}


def test_python_call_carries_the_code(tok):
    code = "import math\nprint(math.pi)"
    _, events = parse(tok, f"<|channel|>analysis to=python code<|message|>{code}<|call|>")
    assert ToolCall("python", code, "code") in events
    assert MessageStarted("analysis", "python", "code") in events
    [call] = Answer.of(events).calls
    assert (call.name, call.arguments, call.builtin) == ("python", code, True)


def test_function_calls_are_not_builtin(tok):
    _, events = parse(tok, "<|channel|>commentary to=functions.python <|constrain|>json<|message|>{}<|call|>")
    [event] = [e for e in events if isinstance(e, ToolCall)]
    assert event.name == "python" and not event.builtin
    assert [(c.name, c.builtin) for c in Answer.of(events).calls] == [("python", False)]


def test_builtin_call_round_trips_through_the_history(tok):
    written = "<|channel|>analysis<|message|>Look.<|end|><|start|>assistant<|channel|>analysis to=browser.find code" \
              "<|message|>{\"pattern\": \"1889\"}<|call|>"
    message = Answer.of(parse(tok, written)[1]).message()
    chat = [{"role": "user", "content": "When?"}, message,
            {"role": "tool", "tool_call_id": message["tool_calls"][0]["id"], "content": "L3: 1889"}]
    text = tok.decode(render_chat(chat, tok, current_date="2025-06-28", builtin_tools=["browser"]))
    assert text.endswith("<|start|>user<|message|>When?<|end|><|start|>assistant<|channel|>analysis<|message|>Look."
                         "<|end|><|start|>assistant to=browser.find<|channel|>analysis code<|message|>"
                         "{\"pattern\": \"1889\"}<|call|><|start|>browser.find to=assistant<|channel|>analysis"
                         "<|message|>L3: 1889<|end|><|start|>assistant")
