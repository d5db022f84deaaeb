"""A cell's output keeps its head and tail and counts what it left out, at any chunking."""

from __future__ import annotations

from core.sandbox.capture import CellOutput


def test_short_output_is_kept_whole():
    output = CellOutput(keep=100)
    for piece in (b"hello ", b"world\n"):
        output.feed(piece)
    assert output.text() == ("hello world\n", 0)


def test_long_output_keeps_head_and_tail_at_any_chunk_size():
    data = b"".join(b"%d\n" % i for i in range(10_000))
    for chunk in (1, 7, 4096, len(data)):
        output = CellOutput(keep=50)
        for start in range(0, len(data), chunk):
            output.feed(data[start:start + chunk])
        text, dropped = output.text()
        assert dropped == len(data) - 100
        assert text.startswith(data[:50].decode()) and text.endswith(data[-50:].decode())
        assert f"[... {dropped} bytes of output left out ...]" in text


def test_a_character_cut_in_half_does_not_break_decoding():
    output = CellOutput(keep=3)
    output.feed("ééééé".encode())
    text, _ = output.text()
    assert "\ufffd" in text or "é" in text  # replaced, never an exception
