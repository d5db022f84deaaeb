"""Where the document library keeps its index: `HEARTH_DOCS_DIR`, else the per-user data folder."""

from __future__ import annotations

import os
from pathlib import Path

from core.system.environment import user_data_dir

INDEX_FILE = "library.sqlite3"


def default_library_dir() -> Path:
    """`HEARTH_DOCS_DIR` if set, else the per-user data folder + documents (beside the models)."""
    if env := os.environ.get("HEARTH_DOCS_DIR"):
        return Path(env).expanduser()
    return user_data_dir() / "documents"
