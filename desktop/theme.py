"""Light and dark themes: a Fusion palette plus the stylesheet in resources/styles/<name>.qss.

Font sizes are never set in the stylesheets: every text follows the system font, and titles
are scaled from it here (`scale_fonts`), so a person who enlarges their system font gets a
larger Hearth."""

from __future__ import annotations

import importlib.resources

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from desktop.settings import THEMES

# objectName -> (size as a multiple of the system font, bold)
TITLE_SCALES = {"pageTitle": (1.5, True), "welcomeTitle": (2.0, True), "modelName": (1.25, True),
                "recommendation": (1.1, False)}

_PALETTES = {
    "light": {"Window": "#f6f5f3", "WindowText": "#1f1f1f", "Base": "#ffffff", "AlternateBase": "#efeeec",
              "Text": "#1f1f1f", "Button": "#ecebe8", "ButtonText": "#1f1f1f", "Highlight": "#c2562f",
              "HighlightedText": "#ffffff", "ToolTipBase": "#ffffff", "ToolTipText": "#1f1f1f",
              "PlaceholderText": "#7a7a7a", "Link": "#a8431f"},
    "dark": {"Window": "#1e1e20", "WindowText": "#e8e6e3", "Base": "#26262a", "AlternateBase": "#2c2c31",
             "Text": "#e8e6e3", "Button": "#2f2f34", "ButtonText": "#e8e6e3", "Highlight": "#e07a4f",
             "HighlightedText": "#111111", "ToolTipBase": "#2f2f34", "ToolTipText": "#e8e6e3",
             "PlaceholderText": "#8d8b88", "Link": "#f09a72"},
}


def stylesheet(name: str) -> str:
    return (importlib.resources.files("resources") / "styles" / f"{name}.qss").read_text(encoding="utf-8")


def apply_theme(app: QApplication, name: str) -> None:
    if name not in THEMES:
        name = "light"
    app.setStyle("Fusion")
    palette = QPalette()
    for role, color in _PALETTES[name].items():
        palette.setColor(getattr(QPalette.ColorRole, role), QColor(color))
    app.setPalette(palette)
    app.setStyleSheet(stylesheet(name))
    app.setProperty("hearthTheme", name)


def scale_fonts(root: QWidget) -> None:
    """Titles are a multiple of the system font, bold; everything else is the system font."""
    base = QApplication.font().pointSizeF()
    for name, (factor, bold) in TITLE_SCALES.items():
        widgets = root.findChildren(QWidget, name)
        if root.objectName() == name:
            widgets.append(root)
        for widget in widgets:
            font = QFont(widget.font())
            font.setPointSizeF(base * factor)
            font.setBold(bold)
            widget.setFont(font)
