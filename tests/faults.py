"""Faults the tests inject: a read-only folder or file for real (a read-only bind mount: root writes
through any file mode, but not through that), and refusals the machine cannot make for real."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import pytest


def deny_reading(monkeypatch, name: str) -> None:
    """Reading any file called `name` fails as it does for an account without read permission
    (the tests run as root, which reads through any file mode)."""
    import builtins
    import io
    import pathlib

    real_open, real_io_open = builtins.open, io.open

    def refuse(path):
        if Path(str(path)).name == name:
            raise PermissionError(13, "Permission denied", str(path))

    def guarded_open(file, *args, **kwargs):
        if not isinstance(file, int):
            refuse(file)
        return real_open(file, *args, **kwargs)

    def guarded_io_open(file, *args, **kwargs):
        if not isinstance(file, int):
            refuse(file)
        return real_io_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_io_open)
    monkeypatch.setattr(pathlib.io, "open", guarded_io_open, raising=False)


@contextlib.contextmanager
def read_only(target: Path):
    """`target` (a file or a folder), mounted read-only over itself for the duration."""
    mounted = subprocess.run(["mount", "--bind", str(target), str(target)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot make a read-only mount here: {mounted.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(target)], check=True, capture_output=True)
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=True)


def failing_writes(monkeypatch, module, error: int, chosen) -> None:
    """Files that `module` opens and `chosen(path, mode)` picks fail every write with `error`
    (ENOSPC: a disk that fills up; EFBIG: a FAT32 drive's 4 GB limit), as the system says it."""
    import builtins
    import os

    real_open = builtins.open

    class Refusing:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def tell(self):
            return self.f.tell()

        def write(self, data):
            raise OSError(error, os.strerror(error))

    def fake_open(path, mode="r", *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        return Refusing(f) if chosen(str(path), mode) else f

    monkeypatch.setattr(module, "open", fake_open, raising=False)
