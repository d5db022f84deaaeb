"""The pieces a server sends become the message events of a local turn, in harmony's order,
including the awkward cases: a call's name after its first arguments, a late piece of a call
already handed over, a call that never got a name."""

from core.chat.events import Malformed, MessageEnded, MessageStarted, TextDelta, ToolCall, TurnEnded
from core.remote.event_writer import EventWriter


def test_reasoning_answer_and_a_call_in_order():
    writer = EventWriter()
    events = writer.reasoning("Hm") + writer.reasoning(".") + writer.content("Let me look.")
    events += writer.call(0, name="get_weather", arguments='{"city":') + writer.call(0, arguments=' "Oslo"}')
    events += writer.end(stopped=True)
    recipient = "functions.get_weather"
    assert events == [
        MessageStarted("analysis"), TextDelta("analysis", "Hm"), TextDelta("analysis", "."),
        MessageEnded("analysis", "Hm."), MessageStarted("final"), TextDelta("final", "Let me look."),
        MessageEnded("final", "Let me look."), MessageStarted("commentary", recipient, "json"),
        TextDelta("commentary", '{"city":', recipient), TextDelta("commentary", ' "Oslo"}', recipient),
        MessageEnded("commentary", '{"city": "Oslo"}', recipient), ToolCall(recipient, '{"city": "Oslo"}', "json"),
        TurnEnded("call")]


def test_a_name_after_the_arguments_and_a_late_piece():
    writer = EventWriter()
    assert writer.call("a", arguments="{}") == []  # held until the name is known
    started = writer.call("a", name="f")
    assert started == [MessageStarted("commentary", "functions.f", "json"), TextDelta("commentary", "{}",
                                                                                      "functions.f")]
    events = writer.call("b", name="g") + writer.call("a", arguments="x")
    assert ToolCall("functions.f", "{}", "json") in events and isinstance(events[-1], Malformed)


def test_a_call_without_a_name_is_left_out_and_a_cut_call_not_handed_over():
    writer = EventWriter()
    writer.call(0, arguments="{}")
    assert [type(e) for e in writer.end(stopped=True)] == [Malformed, TurnEnded]
    cut = EventWriter()
    cut.call(0, name="f", arguments='{"a"')
    assert cut.close(complete=False) == [MessageEnded("commentary", '{"a"', "functions.f")]
