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

from core.engine.parts import THE_MODELS, capital, file_part
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


def damaged(name: str, why: str, technical: str = "") -> CorruptCheckpoint:
    """`why` in plain words; `technical` (tensor names, offsets) only for the details."""
    return CorruptCheckpoint(f"{capital(file_part(name, THE_MODELS))} is damaged ({why}). Download or copy the "
                             "model again.",
                             fault=f"{file_part(name)} is damaged ({why})",
                             details=f"{name}: {technical or why}")


def read_header(path: str | Path, handle=None) -> tuple[dict[str, Entry], int]:
    """The tensors of the safetensors file at `path` (read through `handle` when given, an open
    binary file at offset 0) and where its data section starts. Raises CorruptCheckpoint."""
    path = Path(path)
    if handle is None:
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise ModelNotFound(f"{capital(file_part(path.name, THE_MODELS))} is missing.",
                                fault=f"{file_part(path.name)} is missing", details=f"{path} is missing") from None
        except OSError as error:
            raise FileNotReadable(f"The weights file {path} cannot be read: {why_unreadable(error)}.") from None
        with f:
            return read_header(path, f)
    name, size = path.name, path.stat().st_size
    if size < 8:
        raise damaged(name, "it is empty or cut short")
    (header_len,) = struct.unpack("<Q", handle.read(8))
    if header_len > MAX_HEADER_BYTES or 8 + header_len > size:
        raise damaged(name, "its list of contents is cut short or unreadable",
                      f"header of {header_len} bytes in a file of {size}")
    try:
        header = json.loads(handle.read(header_len).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise damaged(name, "its list of contents is unreadable", "the header is not JSON") from None
    if not isinstance(header, dict):
        raise damaged(name, "its list of contents is unreadable", "the header is not a JSON object")
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
            raise damaged(name, "the description of one of its pieces is unreadable",
                          f"the entry for {tensor_name} is unreadable") from None
        count = 1
        for dim in shape:
            count *= dim
        if end - start != count * item or start < 0 or start > end:
            raise damaged(name, "one of its pieces has the wrong size",
                          f"the size of {tensor_name} does not match its shape")
        if end > data_size:
            raise damaged(name, "it is cut short: the download or copy did not finish",
                          f"{tensor_name} ends at byte {end} of a data section of {data_size}")
        entries[tensor_name] = Entry(dtype, shape, start, end)
        last = max(last, end)
    if last != data_size:
        raise damaged(name, f"it has {data_size - last} bytes too many at its end",
                      f"{data_size - last} stray bytes follow its last tensor")
    return entries, data_start

