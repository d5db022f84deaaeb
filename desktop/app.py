"""Starts the Hearth window: `hearth` with no arguments calls `main()`.

Owns the application object, where the settings, history database and models folder live,
and the theme; everything else is built by `MainWindow`."""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.resources
import os
import re
import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from desktop import theme
from desktop.settings import Settings, user_data_dir


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Hearth")
    app.setOrganizationName("Hearth")
    app.setApplicationDisplayName("Hearth")
    icon = importlib.resources.files("resources") / "icons" / "hearth.svg"
    app.setWindowIcon(QIcon(str(icon)))
    return app


def build_window(settings: Settings):
    """The window for `settings`: history in the user-data folder (opened by `open_history`),
    models where the settings say (and the organisation's policy allows), showing the process's
    egress guard."""
    from core.store.model_store import ModelStore
    from core.system import egress
    from core.system.environment import offline_from_env
    from core.system.policy_file import load_policy
    from desktop.history_open import open_history
    from desktop.main_window import MainWindow

    policy = load_policy()
    # `hearth` installed the guard before anything else ran; started another way (python -m
    # desktop.app), the window installs it itself, before the first model or download.
    guard = egress.guard() or egress.install_for(policy, settings.offline or offline_from_env())
    # Never fails: a damaged file is replaced (and kept), an unwritable one read into memory.
    history = open_history(user_data_dir() / "history.sqlite3")
    store = ModelStore(settings.models_path(), offline=settings.offline or None, policy=policy)
    return MainWindow(settings, history, store, guard=guard)


# System libraries Qt's X11 plugin needs that desktop installs often lack, and their Debian and
# Ubuntu packages.
XCB_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb-shape.so.0": "libxcb-shape0", "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
}


def missing_display_library(env=os.environ) -> str | None:
    """On Linux with X11, Qt aborts the whole process when a system library of its X11 plugin is
    missing, with a message only a developer reads. Find out first and say what to install."""
    if not sys.platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None
    if env.get("WAYLAND_DISPLAY") or not env.get("DISPLAY"):
        return None  # Wayland, or no desktop at all: Qt draws another way
    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        return None
    missing = []
    try:
        ctypes.CDLL(str(plugin))  # fails naming the first system library that is not there
    except OSError as error:
        missing.append(_library_named(str(error)))
    if not ctypes.util.find_library("xcb-cursor"):  # loaded by Qt at run time, so not a link error
        missing.append("libxcb-cursor.so.0")
    return display_library_sentence([m for m in missing if m]) if missing else None


def _library_named(message: str) -> str:
    match = re.search(r"(lib[\w.+-]+\.so[.\d]*)", message)
    return match.group(1) if match else ""


def display_library_sentence(libraries: list[str]) -> str:
    packages = sorted({XCB_PACKAGES.get(lib, "") for lib in libraries} - {""})
    named = ", ".join(libraries) or "a library Qt needs"
    # Once one is missing others often are: offer every package the plugin may need.
    install = " ".join(packages + sorted(set(XCB_PACKAGES.values()) - set(packages)))
    return (f"Hearth cannot open its window: the system library {named} is missing. "
            f"On Ubuntu or Debian install them with: sudo apt install {install} — then start Hearth again.")


def no_display(env=os.environ) -> str | None:
    """Without a desktop (a server, an SSH session without X forwarding) Qt aborts the process
    with text that names xcb-cursor and suggests reinstalling: say what is true instead."""
    if not sys.platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return ("Hearth cannot open its window: this session has no graphical desktop (no DISPLAY or "
            "WAYLAND_DISPLAY). Start Hearth from the desktop, or chat in this terminal: `hearth chat "
            "--model gpt-oss-20b` (`hearth --help` lists the commands).")


def quiet_qt_logging(env=os.environ) -> None:
    """Qt fills the terminal with font-database warnings (144 lines of 'OpenType support
    missing' on a plain Debian) that tell the person nothing; a setting of theirs wins."""
    env.setdefault("QT_LOGGING_RULES", "qt.text.font.db=false;qt.qpa.fonts=false")


def main(argv: list[str] | None = None) -> int:
    for problem in (no_display(), missing_display_library()):
        if problem:
            print(problem, file=sys.stderr)
            return 1
    quiet_qt_logging()
    app = create_app(argv)
    settings = Settings()
    theme.apply_theme(app, settings.theme)
    window = build_window(settings)
    window.show()
    code = app.exec()
    window.history.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
