"""One folder of the document library on the Documents page: where it is, how many documents
it holds and how many files could not be read, when it was last indexed, and Remove."""

from __future__ import annotations

from PySide6.QtCore import QDateTime, QLocale, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from core.docs import FolderInfo


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def folder_details(info: FolderInfo) -> str:
    parts = [_count(info.documents, "document")]
    if info.unreadable:
        parts.append(f"{info.unreadable} could not be read")
    if info.indexed_at is not None:
        when = QDateTime.fromSecsSinceEpoch(int(info.indexed_at))
        parts.append("indexed " + QLocale().toString(when, QLocale.FormatType.ShortFormat))
    else:
        parts.append("not indexed to the end yet: Update reads the rest")
    text = " · ".join(parts)
    if not info.present:
        text += ". The folder is not there now (a drive not connected?); its documents are kept as they were."
    return text


class DocumentFolderRow(QFrame):
    remove_requested = Signal(str)  # the folder's path

    def __init__(self, info: FolderInfo, parent=None):
        super().__init__(parent)
        self.setObjectName("documentFolder")
        self.path = str(info.path)
        self.setAccessibleName(f"Library folder {self.path}")
        self.name = QLabel(self.path)
        self.name.setObjectName("folderPath")
        self.name.setWordWrap(True)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QLabel()
        self.details.setObjectName("hint")
        self.details.setWordWrap(True)
        self.remove_button = QPushButton("Remove…", self)
        self.remove_button.setAccessibleName(f"Remove {self.path} from the library")
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.path))
        text = QVBoxLayout()
        text.addWidget(self.name)
        text.addWidget(self.details)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addLayout(text, 1)
        layout.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)
        self.set_info(info)

    def set_info(self, info: FolderInfo, kept_out: str = "") -> None:
        """`kept_out`: why the model may not read this folder (the organisation's policy), or ""."""
        self.details.setText(folder_details(info) + (f" {kept_out}" if kept_out else ""))
        self.setProperty("present", info.present)

    def set_removable(self, removable: bool, reason: str = "") -> None:
        self.remove_button.setEnabled(removable)
        self.remove_button.setToolTip(reason or "Forget this folder's documents (the files themselves stay)")
