"""core/engine/safetensors_header.py: the one header reader, on files made by the safetensors library."""

from __future__ import annotations

import struct

import pytest
import torch
from safetensors.torch import save_file

from core.engine.safetensors_header import Entry, read_header
from core.errors import CorruptCheckpoint


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file({"a": torch.zeros(2, 3, dtype=torch.bfloat16), "b": torch.ones(4, dtype=torch.uint8)}, str(path))
    return path


def test_reads_every_entry_and_where_the_data_starts(good):
    entries, start = read_header(good)
    assert entries["a"] == Entry("BF16", (2, 3), entries["a"].start, entries["a"].start + 12)
    assert entries["b"].dtype == "U8" and entries["b"].shape == (4,)
    assert start + max(e.end for e in entries.values()) == good.stat().st_size


@pytest.mark.parametrize(("damage", "why"), [
    (lambda b: b[:-1], "cut short"),
    (lambda b: b + b"\0\0", "2 stray bytes follow its last tensor"),
    (lambda b: b[:4], "empty or cut short"),
    (lambda b: struct.pack("<Q", 10**12) + b"{}", "header is cut short"),
    (lambda b: struct.pack("<Q", 4) + b"{{{{", "header is unreadable"),
    (lambda b: (h := b'{"a": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 2]}}')
        and struct.pack("<Q", len(h)) + h + b"\0\0", "the size of a does not match its shape"),
    (lambda b: (h := b'{"a": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 1]}}')
        and struct.pack("<Q", len(h)) + h + b"\0", "the entry for a is unreadable"),
])
def test_a_damaged_file_gets_a_sentence(good, damage, why):
    good.write_bytes(damage(good.read_bytes()))
    with pytest.raises(CorruptCheckpoint, match=why) as refused:
        read_header(good)
    assert str(refused.value).endswith("Download or copy the model again.")
