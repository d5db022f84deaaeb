"""Messages between Hearth and its Python worker: JSON objects, each sent as a 4-byte big-endian
length and that many bytes of UTF-8, over a pair of pipes.

Runs on both sides, so it imports nothing but the standard library. A length prefix (not lines)
lets code and output hold any character, and a reader never waits for a newline that a killed
worker will not write: a closed pipe reads as `None`.
"""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

_LENGTH = struct.Struct(">I")
MAX_MESSAGE = 64 * 1024 * 1024  # code or output larger than this is not a notebook cell


class FramingError(Exception):
    """The other side wrote something that is not a message (a bug, or a worker that was killed
    half-way through a write)."""


def write_message(stream: BinaryIO, message: dict[str, Any]) -> None:
    body = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
    if len(body) > MAX_MESSAGE:
        raise FramingError(f"a message of {len(body)} bytes is over the limit of {MAX_MESSAGE}")
    stream.write(_LENGTH.pack(len(body)) + body)
    stream.flush()


def read_message(stream: BinaryIO) -> dict[str, Any] | None:
    """The next message, or None when the pipe was closed between two messages."""
    head = _read_exactly(stream, _LENGTH.size)
    if head is None:
        return None
    (length,) = _LENGTH.unpack(head)
    if length > MAX_MESSAGE:
        raise FramingError(f"a message claims {length} bytes, over the limit of {MAX_MESSAGE}")
    body = _read_exactly(stream, length)
    if body is None:
        raise FramingError("the pipe closed in the middle of a message")
    message = json.loads(body.decode("utf-8", "surrogatepass"))
    if not isinstance(message, dict):
        raise FramingError("a message is not a JSON object")
    return message


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    chunks, got = [], 0
    while got < size:
        chunk = stream.read(size - got)
        if not chunk:
            if got:
                raise FramingError("the pipe closed in the middle of a message")
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)
