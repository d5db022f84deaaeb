"""One .safetensors file, memory-mapped: tensors are zero-copy views of the file's pages.

We read the format ourselves (8-byte header length, JSON header, raw data) rather than
through `safetensors.safe_open`, because we need two things it does not give: a clear,
typed error for every way a file can be damaged, and tensors that stay on disk pages
until touched, so that loading a 13 GB model costs no copy and no startup time.
"""

from __future__ import annotations

import json
import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

import torch

from core.errors import CorruptCheckpoint, ModelNotFound

DTYPES = {
    "BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32, "F64": torch.float64,
    "U8": torch.uint8, "I8": torch.int8, "I16": torch.int16, "I32": torch.int32, "I64": torch.int64,
    "BOOL": torch.bool, "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2,
}
_MAX_HEADER = 100 * 1024 * 1024


@dataclass(frozen=True)
class TensorInfo:
    dtype: torch.dtype
    shape: tuple[int, ...]
    start: int  # byte offsets into the data section
    end: int


class SafetensorsFile:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - kept open for the mapping's lifetime
        except FileNotFoundError:
            raise ModelNotFound(f"The weights file {self.path.name} is missing from the model folder.") from None
        except OSError as error:
            raise CorruptCheckpoint(f"The weights file {self.path.name} cannot be opened ({error}).") from None
        with handle:
            size = self.path.stat().st_size
            self.tensors, self._data_start = _read_header(handle, size, self.path.name)
            # Copy-on-write mapping: writable for torch.frombuffer, yet nothing is ever written back.
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY) if size else None

    def __contains__(self, name: str) -> bool:
        return name in self.tensors

    def get(self, name: str) -> torch.Tensor:
        info = self.tensors[name]
        count = 1
        for dim in info.shape:
            count *= dim
        if count == 0:
            return torch.empty(info.shape, dtype=info.dtype)
        flat = torch.frombuffer(self._map, dtype=info.dtype, count=count, offset=self._data_start + info.start)
        return flat.view(info.shape)


def _read_header(handle, size: int, name: str) -> tuple[dict[str, TensorInfo], int]:
    def damaged(why: str) -> CorruptCheckpoint:
        return CorruptCheckpoint(f"The weights file {name} is damaged ({why}). "
                                 "Download or copy the model again.")

    if size < 8:
        raise damaged("it is empty or cut short")
    (header_len,) = struct.unpack("<Q", handle.read(8))
    if header_len > _MAX_HEADER or 8 + header_len > size:
        raise damaged("its header is cut short or unreadable")
    try:
        header = json.loads(handle.read(header_len).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise damaged("its header is unreadable") from None
    if not isinstance(header, dict):
        raise damaged("its header is unreadable")
    header.pop("__metadata__", None)
    data_start = 8 + header_len
    data_size = size - data_start
    tensors = {}
    for tensor_name, entry in header.items():
        try:
            dtype = DTYPES[entry["dtype"]]
            shape = tuple(int(d) for d in entry["shape"])
            start, end = (int(o) for o in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise damaged(f"the entry for {tensor_name} is unreadable") from None
        count = 1
        for dim in shape:
            count *= dim
        itemsize = torch.empty((), dtype=dtype).element_size()
        if end - start != count * itemsize or start < 0 or start > end:
            raise damaged(f"the size of {tensor_name} does not match its shape")
        if end > data_size:
            raise damaged("it is cut short: the download or copy did not finish")
        tensors[tensor_name] = TensorInfo(dtype, shape, start, end)
    return tensors, data_start
