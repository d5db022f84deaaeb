"""`/mnt/data` where it cannot be mounted: paths that begin with it are mapped to the session's
scratch folder inside Python's own file functions (open, os.*, and so pathlib, numpy.save,
pandas ...), and the scratch folder is the working directory.

Used where the worker has no mount namespace (the seccomp fallback, macOS, Windows). A program
the code starts (`subprocess.run(["cat", "/mnt/data/x"])`) and C code that opens files itself do
not see the mapping; relative paths work everywhere, since the working directory is the folder.

Runs inside the worker; imports only the standard library.
"""

from __future__ import annotations

import builtins
import functools
import io
import os

MNT_DATA = "/mnt/data"
# Functions whose first argument is a path (src and dst for the two-path ones).
_ONE_PATH = ("stat", "lstat", "listdir", "scandir", "mkdir", "makedirs", "remove", "unlink", "rmdir", "chdir",
             "access", "utime", "chmod", "open", "truncate", "removedirs", "readlink")
_TWO_PATHS = ("rename", "replace", "link", "symlink")


def mapper(scratch: str):
    """The function that maps one path (str, bytes, path-like; anything else passes unchanged)."""
    scratch_bytes = os.fsencode(scratch)

    def map_path(path):
        if isinstance(path, os.PathLike):
            path = os.fspath(path)
        if isinstance(path, str) and (path == MNT_DATA or path.startswith(MNT_DATA + "/")):
            return scratch + path[len(MNT_DATA):]
        if isinstance(path, bytes) and (path == b"/mnt/data" or path.startswith(b"/mnt/data/")):
            return scratch_bytes + path[len(MNT_DATA):]
        return path

    return map_path


def install(scratch: str) -> None:
    map_path = mapper(scratch)

    def wrap(function, paths: int):
        @functools.wraps(function)
        def mapped(*args, **kwargs):  # os.listdir() and os.scandir() take no path at all
            return function(*(map_path(a) for a in args[:paths]), *args[paths:], **kwargs)
        return mapped

    builtins.open = io.open = wrap(io.open, 1)
    for names, paths in ((_ONE_PATH, 1), (_TWO_PATHS, 2)):
        for name in names:
            if hasattr(os, name):
                setattr(os, name, wrap(getattr(os, name), paths))
