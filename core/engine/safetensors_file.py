"""One .safetensors file, memory-mapped: tensors are zero-copy views of the file's pages.

We read the format ourselves (8-byte header length, JSON header, raw data) rather than
through `safetensors.safe_open`, because we need two things it does not give: a clear,
typed error for every way a file can be damaged, and tensors that stay on disk pages
until touched, so that loading a 13 GB model costs no copy and no startup time.
"""

from __future__ import annotations

import errno
import mmap
from dataclasses import dataclass
from pathlib import Path

import torch

from core.engine.parts import THE_MODELS, capital, file_part
from core.engine.safetensors_header import read_header
from core.errors import FileNotReadable, ModelNotFound, NotEnoughMemory, why_unreadable
from core.units import size_text

DTYPES = {
    "BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32, "F64": torch.float64,
    "U8": torch.uint8, "I8": torch.int8, "I16": torch.int16, "I32": torch.int32, "I64": torch.int64,
    "BOOL": torch.bool, "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2,
}


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
            raise ModelNotFound(f"{capital(file_part(self.path.name, THE_MODELS))} is missing from the model folder.",
                                fault=f"{file_part(self.path.name)} is missing", details=f"{self.path} is missing") \
                from None
        except OSError as error:
            raise FileNotReadable(f"The weights file {self.path} cannot be opened: {why_unreadable(error)}.") \
                from None
        with handle:
            size = self.path.stat().st_size
            entries, self._data_start = read_header(self.path, handle)
            self.tensors = {name: TensorInfo(DTYPES[e.dtype], e.shape, e.start, e.end) for name, e in entries.items()}
            # Copy-on-write mapping: writable for torch.frombuffer, yet nothing is ever written back.
            try:
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY) if size else None
            except OSError as error:
                if error.errno == errno.ENOMEM:  # a memory limit (ulimit -v, a container) below the file
                    raise NotEnoughMemory(
                        f"There is not enough memory to open the weights file {self.path.name} "
                        f"({size_text(size)}): a memory limit on this program or computer is lower than "
                        "the model needs. Close other programs, raise the limit, or choose a smaller model."
                    ) from None
                raise FileNotReadable(f"The weights file {self.path} cannot be read: {why_unreadable(error)}.") \
                    from None

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
