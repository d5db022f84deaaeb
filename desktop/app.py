"""Starts the Hearth window: `hearth` with no arguments calls `main()`.

Owns the application object, where the settings, history database and models folder live,
and the theme; everything else is built by `MainWindow`."""

from __future__ import annotations

import importlib.resources
import sys

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
    """The window for `settings`: history in the user-data folder, models where the settings say."""
    from core.model_store import ModelStore
    from desktop.history import History
    from desktop.main_window import MainWindow

    history = History(user_data_dir() / "history.sqlite3")
    store = ModelStore(settings.models_path(), offline=settings.offline or None)
    return MainWindow(settings, history, store)


def main(argv: list[str] | None = None) -> int:
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
