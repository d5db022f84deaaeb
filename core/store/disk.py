"""Writing model files to disk, the same way for downloads and for import/export: the chunk
size, the space kept free, the check before starting, and what a full disk means."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

from core.errors import DiskFull, FolderNotWritable
from core.units import size_text

CHUNK = 4 * 1024 * 1024
# Kept free beyond the files themselves, so the system does not run out of disk when we finish.
DISK_MARGIN_BYTES = 256 * 1024**2


def check_space(folder: Path, needed: int, doing: str, advice: str) -> None:
    """Raises DiskFull, in a sentence, unless the disk holding `folder` has room for `needed`
    bytes and the margin. `doing` starts the sentence ("Downloading gpt-oss-20b")."""
    free = shutil.disk_usage(folder).free
    if free < needed + DISK_MARGIN_BYTES:
        raise DiskFull(f"{doing} needs {size_text(needed + DISK_MARGIN_BYTES)} of free disk space in {folder}, "
                       f"but only {size_text(free)} is free.", advice=advice)


def check_writable(folder: Path, doing: str) -> None:
    """Raises FolderNotWritable, in a sentence that names `folder`, unless Hearth can create it
    (with its parents) and write a file in it. `doing` starts the sentence ("Importing gpt-oss-20b")."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".hearth-write-check-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise FolderNotWritable(f"{doing} needs to write to the models folder {folder}, but {not_writable(error)}. "
                                "Choose another models folder in Settings, or ask whoever manages this "
                                "computer.") from None


def not_writable(error: OSError) -> str:
    """Why a write failed, as the end of a sentence."""
    if error.errno == errno.EROFS:
        return "it is on a read-only disk"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "this account is not allowed to write there"
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        return "it does not exist and cannot be created"
    if disk_full(error):
        return "the disk is full"
    return f"the system refused ({os.strerror(error.errno) if error.errno else error})"


def disk_full(error: OSError) -> bool:
    """Whether a failed write means the disk (or the person's quota) is full."""
    return error.errno in (errno.ENOSPC, errno.EDQUOT)


def fresh_staging(folder: Path) -> Path:
    """An empty folder to build files in before they move into place in one rename."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
