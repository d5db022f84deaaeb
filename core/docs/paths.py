"""Where the document library keeps its index: `HEARTH_DOCS_DIR`, else the per-user data folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

INDEX_FILE = "library.sqlite3"


def default_library_dir() -> Path:
    """`HEARTH_DOCS_DIR` if set, else the platform's per-user data folder + Hearth/documents
    (beside the models folder that core.system.environment places the same way)."""
    if env := os.environ.get("HEARTH_DOCS_DIR"):
        return Path(env).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "Hearth" / "documents"
