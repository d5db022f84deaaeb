"""What the environment says: where Hearth keeps models, and whether to stay offline."""

from __future__ import annotations

import os
import sys
from pathlib import Path

TRUE_WORDS = {"1", "true", "yes", "on"}


def user_data_dir() -> Path:
    """The platform's per-user data folder for Hearth (models, documents ...)."""
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "Hearth"


def default_models_dir() -> Path:
    """`HEARTH_MODELS_DIR` if set, else the per-user data folder + models."""
    if env := os.environ.get("HEARTH_MODELS_DIR"):
        return Path(env).expanduser()
    return user_data_dir() / "models"


def offline_from_env() -> bool:
    """Offline when `HEARTH_OFFLINE` (or the hub's own `HF_HUB_OFFLINE`) is set to a true word."""
    keys = ("HEARTH_OFFLINE", "HF_HUB_OFFLINE")
    return any(os.environ.get(k, "").strip().lower() in TRUE_WORDS for k in keys)
