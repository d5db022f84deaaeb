"""Help > Getting started and Help > Keyboard shortcuts: what a person new to Hearth needs, in
the window's own words, without leaving it (no web page: Hearth may be offline)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from core.engine.catalogue import CATALOGUE
from desktop.widgets.format import size_text

_SIZES = {model_id: size_text(e.download_bytes) for model_id, e in CATALOGUE.items()}
GETTING_STARTED = f"""
<h2>Getting started</h2>
<ol>
<li><b>Get a model.</b> Open <i>View &gt; Models</i>. <i>Download</i> fetches gpt-oss-20b
({_SIZES["gpt-oss-20b"]}) or gpt-oss-120b ({_SIZES["gpt-oss-120b"]}) once; <i>Import</i> takes a model folder
you already have, for example from a USB drive. The Hardware page says which model this computer runs, and why.</li>
<li><b>Chat.</b> Type in the box at the bottom and press Enter. The model first thinks (the folded
<i>Thinking</i> section), then answers. <i>Stop</i> (or Esc) ends an answer at once.</li>
<li><b>Think less or more.</b> The selector beside the message box sets how long the model thinks:
quicker answers, or more careful ones. On a computer without a graphics card, quicker is often better.</li>
<li><b>Your chats stay here.</b> They are listed on the left; search them with Ctrl+F. Nothing you type
leaves this computer: the status bar counts any connection Hearth refused.</li>
<li><b>Other programs.</b> <i>Tools &gt; Local API for other apps</i> lets programs on this computer
use the model through the OpenAI API.</li>
</ol>
"""


def shortcuts() -> list[tuple[str, str]]:
    """(keys, what they do), as this platform writes the keys."""
    def keys(sequence) -> str:
        return QKeySequence(sequence).toString(QKeySequence.SequenceFormat.NativeText)

    return [
        ("Enter", "Send the message"),
        ("Shift+Enter", "Start a new line in the message"),
        ("Esc", "Stop the answer being written, or stop editing a message"),
        (keys(QKeySequence.StandardKey.New), "New chat"),
        (keys(QKeySequence.StandardKey.Find), "Search the chats"),
        (", ".join(keys(f"Ctrl+{i}") for i in range(1, 5)), "The Chat, Documents, Models and Hardware pages"),
        (keys(QKeySequence.StandardKey.Preferences) or "—", "Settings"),
        (keys(QKeySequence.StandardKey.Quit), "Quit Hearth"),
    ]


def shortcuts_html() -> str:
    rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{what}</td></tr>" for k, what in shortcuts())
    return f"<h2>Keyboard shortcuts</h2><table cellpadding='3'>{rows}</table>"


class HelpDialog(QDialog):
    def __init__(self, title: str, html: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(False)
        self.text.setHtml(html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(560, 460)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
