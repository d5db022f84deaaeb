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


@pytest.mark.parametrize(("damage", "why", "technical"), [
    (lambda b: b[:-1], "cut short", "b ends at byte"),
    (lambda b: b + b"\0\0", "it has 2 bytes too many at its end", "2 stray bytes follow its last tensor"),
    (lambda b: b[:4], "empty or cut short", "empty or cut short"),
    (lambda b: struct.pack("<Q", 10**12) + b"{}", "list of contents is cut short", "header of 1000000000000 bytes"),
    (lambda b: struct.pack("<Q", 4) + b"{{{{", "list of contents is unreadable", "not JSON"),
    (lambda b: (h := b'{"a": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 2]}}')
        and struct.pack("<Q", len(h)) + h + b"\0\0", "one of its pieces has the wrong size",
     "the size of a does not match its shape"),
    (lambda b: (h := b'{"a": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 1]}}')
        and struct.pack("<Q", len(h)) + h + b"\0", "the description of one of its pieces is unreadable",
     "the entry for a is unreadable"),
])
def test_a_damaged_file_gets_a_sentence(good, damage, why, technical):
    good.write_bytes(damage(good.read_bytes()))
    with pytest.raises(CorruptCheckpoint, match=why) as refused:
        read_header(good)
    assert str(refused.value).startswith("One of the model's weights files is damaged (")
    assert str(refused.value).endswith("Download or copy the model again.")
    # The file and tensor names are for a bug report, not for the sentence.
    assert "w.safetensors" not in str(refused.value) and technical in refused.value.details
    assert refused.value.fault.startswith("one of its weights files is damaged")


def test_a_shard_is_named_as_a_part_of_the_weights(tmp_path):
    shard = tmp_path / "model-00002-of-00003.safetensors"
    shard.write_bytes(b"\0" * 4)
    with pytest.raises(CorruptCheckpoint) as refused:
        read_header(shard)
    assert str(refused.value) == ("Part 2 of 3 of the model's weights is damaged (it is empty or cut short). "
                                  "Download or copy the model again.")
    assert refused.value.fault == "part 2 of 3 of its weights is damaged (it is empty or cut short)"
