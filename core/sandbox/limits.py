"""What one Python session may use: time per call, memory, processes, file size, output.

The defaults are what the model was told (120 seconds, in the `python` tool's trained
description) and what a laptop can spare; an administrator's policy or a test may set others.
"""

from __future__ import annotations

from dataclasses import dataclass

GiB = 1024**3


@dataclass(frozen=True)
class SandboxLimits:
    timeout_s: float = 120.0  # per call; then the worker is killed and a fresh one started
    memory_bytes: int = 2 * GiB  # address space of the worker and of each process it starts (RLIMIT_AS)
    processes: int = 64  # processes and threads the session may run at once (RLIMIT_NPROC)
    file_bytes: int = 1 * GiB  # largest file the code may write (RLIMIT_FSIZE)
    output_chars: int = 20_000  # output longer than this is cut in the middle, with a note

    def __post_init__(self):
        if not self.timeout_s > 0:
            raise ValueError(f"The time limit of a Python call must be positive, not {self.timeout_s} seconds.")
        if self.memory_bytes < 256 * 1024**2:
            raise ValueError(f"A Python session needs at least 256 MiB of memory; {self.memory_bytes} bytes "
                             "is too little to start it.")
        if self.processes < 4:
            raise ValueError(f"A Python session needs at least 4 processes and threads, not {self.processes}.")
        if self.file_bytes < 1024**2:
            raise ValueError(f"The file size limit of a Python session must be at least 1 MiB, not "
                             f"{self.file_bytes} bytes.")
        if self.output_chars < 200:
            raise ValueError(f"The output of a Python call must be allowed at least 200 characters, not "
                             f"{self.output_chars}.")

    def timeout_words(self) -> str:
        """"120 seconds", "2 seconds", "1.5 seconds": as the restart message says it."""
        seconds = f"{self.timeout_s:g}"
        return f"{seconds} second" if seconds == "1" else f"{seconds} seconds"
