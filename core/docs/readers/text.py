"""Plain text files: one part, numbered from line 1; and the decoding every text format shares."""

from __future__ import annotations

import codecs
from pathlib import Path

from core.docs.errors import Unreadable
from core.docs.readers import Part, Read


def read(path: Path) -> Read:
    return Read("", (Part(decode(path.read_bytes()), first_line=1),))


def decode(data: bytes) -> str:
    """Text of a file in UTF-8 (with or without a byte-order mark) or UTF-16 with one; other
    bytes are read as Windows-1252, which every Western file of the last decades is close to.
    A file with NUL bytes and no UTF-16 mark is not text."""
    if data.startswith(codecs.BOM_UTF8):
        return _normal(data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _normal(data.decode("utf-16", errors="replace"))
    try:
        return _normal(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        raise Unreadable("it holds binary data, not text")
    return _normal(data.decode("cp1252", errors="replace"))


def _normal(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
