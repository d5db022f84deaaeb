"""Where the window's file dialogs open. Each kind of action (importing a model, exporting one,
exporting a chat) starts in the folder it used last, remembered in `desktop.settings`; the
first time, or when that folder is gone (an unplugged USB drive), in the nearest folder above
it that still exists, else the home folder: never the folder Hearth happened to start in."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget


def start_folder(remembered: str | Path | None) -> str:
    """`remembered` if it is still a folder, else its nearest existing parent, else the home folder."""
    home = Path.home()
    if remembered:
        path = Path(remembered).expanduser()
        for candidate in (path, *path.parents):
            if candidate.is_dir() and candidate != Path(candidate.anchor):  # a bare drive root says nothing
                return str(candidate)
    return str(home)


def choose_folder(parent: QWidget | None, caption: str, remembered: str | Path | None) -> str:
    """The folder the person chose ("" if cancelled), the dialog opening at `start_folder(remembered)`."""
    return QFileDialog.getExistingDirectory(parent, caption, start_folder(remembered))


def choose_save_path(parent: QWidget | None, caption: str, remembered: str | Path | None, file_name: str,
                     filters: str) -> tuple[str, str]:
    """(path, chosen filter) for saving `file_name`; ("", "") if cancelled."""
    return QFileDialog.getSaveFileName(parent, caption, str(Path(start_folder(remembered)) / file_name), filters)
