"""The parts every page of the window is built from (Documents, Models, This computer): a
header with the page's title and its buttons, a scrolling column of its sections, the page's
margins, and the wrapped, selectable text labels they hold."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLayout, QScrollArea, QVBoxLayout, QWidget

MARGINS = (24, 16, 24, 16)


def page_header(title: str, *buttons: QWidget) -> QHBoxLayout:
    """The page's title at the left, its buttons at the right."""
    label = QLabel(title)
    label.setObjectName("pageTitle")
    header = QHBoxLayout()
    header.addWidget(label, 1)
    for button in buttons:
        header.addWidget(button)
    return header


def scrolling(*parts: QWidget | QLayout) -> QScrollArea:
    """`parts` one under the other, at the top of an area that scrolls vertically."""
    inner = QWidget()
    column = QVBoxLayout(inner)
    for part in parts:
        if isinstance(part, QLayout):
            column.addLayout(part)
        else:
            column.addWidget(part)
    column.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(inner)
    return scroll


def page_column(page: QWidget) -> QVBoxLayout:
    """The page's own layout, with the margins every page keeps."""
    layout = QVBoxLayout(page)
    layout.setContentsMargins(*MARGINS)
    return layout


def text_label(text: str = "", *, name: str = "", description: str = "", selectable: bool = True) -> QLabel:
    """Wrapped text; `name`: its object name (for the style), `description`: what a screen reader
    says it is (the text itself stays what it reads out)."""
    label = QLabel(text)
    label.setWordWrap(True)
    if name:
        label.setObjectName(name)
    if description:
        label.setAccessibleDescription(description)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label
