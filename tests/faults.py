"""Faults the tests inject where the machine cannot make them for real (the tests run as root)."""

from __future__ import annotations

from pathlib import Path


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
