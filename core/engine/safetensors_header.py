"""The one reader of a safetensors file's header, torch-free: the engine maps tensors with it
(core/engine/safetensors_file.py) and the model store checks downloaded or imported files
with it (core/store/model_files.py), so both refuse a damaged file the same way and in the
same words.

A file is 8 bytes of header length (little-endian), the JSON header (tensor name -> dtype,
shape, data offsets; an optional `__metadata__`), then the data. Every entry must be readable,
its bytes must match its dtype and shape and lie inside the file, and nothing may trail the
last tensor.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from core.errors import CorruptCheckpoint, FileNotReadable, ModelNotFound, why_unreadable

MAX_HEADER_BYTES = 100 * 1024 * 1024
ITEM_BYTES = {"BF16": 2, "F16": 2, "F32": 4, "F64": 8, "U8": 1, "I8": 1, "I16": 2, "I32": 4, "I64": 8,
              "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}


@dataclass(frozen=True)
class Entry:
    dtype: str  # the file's name for it: "BF16", "U8" ...
    shape: tuple[int, ...]
    start: int  # byte offsets into the data section
    end: int


def damaged(name: str, why: str) -> CorruptCheckpoint:
    return CorruptCheckpoint(f"The weights file {name} is damaged ({why}). Download or copy the model again.")


def read_header(path: str | Path, handle=None) -> tuple[dict[str, Entry], int]:
    """The tensors of the safetensors file at `path` (read through `handle` when given, an open
    binary file at offset 0) and where its data section starts. Raises CorruptCheckpoint."""
    path = Path(path)
    if handle is None:
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise ModelNotFound(f"The weights file {path.name} is missing.") from None
        except OSError as error:
            raise FileNotReadable(f"The weights file {path} cannot be read: {why_unreadable(error)}.") from None
        with f:
            return read_header(path, f)
    name, size = path.name, path.stat().st_size
    if size < 8:
        raise damaged(name, "it is empty or cut short")
    (header_len,) = struct.unpack("<Q", handle.read(8))
    if header_len > MAX_HEADER_BYTES or 8 + header_len > size:
        raise damaged(name, "its header is cut short or unreadable")
    try:
        header = json.loads(handle.read(header_len).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise damaged(name, "its header is unreadable") from None
    if not isinstance(header, dict):
        raise damaged(name, "its header is unreadable")
    header.pop("__metadata__", None)
    data_start = 8 + header_len
    data_size = size - data_start
    entries, last = {}, 0
    for tensor_name, raw in header.items():
        try:
            dtype = str(raw["dtype"])
            shape = tuple(int(d) for d in raw["shape"])
            start, end = (int(o) for o in raw["data_offsets"])
            item = ITEM_BYTES[dtype]
        except (KeyError, TypeError, ValueError):
            raise damaged(name, f"the entry for {tensor_name} is unreadable") from None
        count = 1
        for dim in shape:
            count *= dim
        if end - start != count * item or start < 0 or start > end:
            raise damaged(name, f"the size of {tensor_name} does not match its shape")
        if end > data_size:
            raise damaged(name, "it is cut short: the download or copy did not finish")
        entries[tensor_name] = Entry(dtype, shape, start, end)
        last = max(last, end)
    if last != data_size:
        raise damaged(name, f"{data_size - last} stray bytes follow its last tensor")
    return entries, data_start
