"""Length-prefixed JSON messages: any text survives, a closed pipe is None, a cut message is an error."""

from __future__ import annotations

import io

import pytest

from core.sandbox.framing import FramingError, read_message, write_message


def test_messages_round_trip_with_any_text():
    stream = io.BytesIO()
    messages = [{"code": "print('héllo \\n 世界')\n\x00"}, {"output": "a" * 100_000, "value": None}, {}]
    for message in messages:
        write_message(stream, message)
    stream.seek(0)
    assert [read_message(stream) for _ in messages] == messages
    assert read_message(stream) is None


def test_a_lone_surrogate_in_code_does_not_break_the_pipe():
    stream = io.BytesIO()
    write_message(stream, {"code": "'\ud800'"})
    stream.seek(0)
    assert read_message(stream) == {"code": "'\ud800'"}


def test_a_message_cut_short_is_an_error_not_a_hang():
    stream = io.BytesIO()
    write_message(stream, {"output": "x" * 50})
    cut = io.BytesIO(stream.getvalue()[:20])
    with pytest.raises(FramingError):
        read_message(cut)
    with pytest.raises(FramingError):
        read_message(io.BytesIO(b"\x00\x00"))


def test_a_length_over_the_limit_is_refused_before_reading():
    with pytest.raises(FramingError):
        read_message(io.BytesIO(b"\xff\xff\xff\xff"))
    with pytest.raises(FramingError):
        read_message(io.BytesIO(b"\x00\x00\x00\x02[]"))  # not an object
