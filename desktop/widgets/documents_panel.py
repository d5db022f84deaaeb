"""The Documents page: the folders of the document library (which a chat searches when its
"Search my documents" is on), "Add a folder…", "Update all", indexing progress with Cancel, what
the last indexing did, the files that could not be read, and a sentence when the library cannot
search at all. It only shows and asks; the documents controller does the work."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.docs import FolderInfo, IndexProgress, Skipped
from desktop.widgets.document_folder_row import DocumentFolderRow
from desktop.widgets.indexing_progress import IndexingProgress
from desktop.widgets.page import page_column, page_header, scrolling, text_label

INTRO = ("When a chat's “Search my documents” is on, the model searches these folders and cites what it "
         "read; a citation opens the file. The documents stay on this computer: Hearth keeps an index of "
         "their text and never changes them. It reads PDF, Word (.docx), HTML, Markdown and text files.")
MAX_PROBLEMS_SHOWN = 200  # a folder of thousands of broken files must not build thousands of labels


class DocumentsPanel(QWidget):
    add_requested = Signal()
    update_requested = Signal()
    remove_requested = Signal(str)
    cancel_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("documentsPanel")
        self.update_button = QPushButton("Update all")
        self.update_button.setAccessibleName("Index the library's folders again")
        self.update_button.setToolTip("Read new and changed files again, and forget deleted ones")
        self.update_button.clicked.connect(self.update_requested)
        self.add_button = QPushButton("Add a folder…")
        self.add_button.setObjectName("primaryButton")
        self.add_button.setAccessibleName("Add a folder of documents")
        self.add_button.clicked.connect(self.add_requested)
        header = page_header("Documents", self.update_button, self.add_button)
        intro = text_label(name="hint")
        intro.setText(INTRO)
        self.notice = text_label(name="messageNote")  # why the library cannot search, or searches slowly
        self.notice.hide()
        self.policy_hint = text_label(name="hint")  # which folders the organisation lets the library hold
        self.policy_hint.hide()
        self.progress = IndexingProgress()
        self.progress.cancel_requested.connect(self.cancel_requested)
        self.progress.hide()
        self.result = text_label()  # what the last indexing did
        self.result.setAccessibleDescription("What the last indexing did")
        self.result.hide()

        self.folders_box = QGroupBox("Folders")
        self._folders_layout = QVBoxLayout(self.folders_box)
        self.empty = text_label(name="hint", selectable=False)
        self.empty.setText("No folders yet. Add one, and its documents can be searched from any chat.")
        self._folders_layout.addWidget(self.empty)
        self.problems_box = QGroupBox("Files that could not be read")
        self.problems_text = text_label()
        QVBoxLayout(self.problems_box).addWidget(self.problems_text)
        self.problems_box.hide()
        scroll = scrolling(self.folders_box, self.problems_box)

        layout = page_column(self)
        layout.addLayout(header)
        layout.addWidget(intro)
        layout.addWidget(self.notice)
        layout.addWidget(self.policy_hint)
        layout.addWidget(self.progress)
        layout.addWidget(self.result)
        layout.addWidget(scroll, 1)
        self.rows: dict[str, DocumentFolderRow] = {}
        self._busy = False
        self._usable = False  # until the library is open
        self._adding_lock = ""  # the policy's reason when no folder may be added
        self._refresh_buttons()

    # -- what the controller sets ----------------------------------------------------------
    def set_notice(self, sentence: str) -> None:
        self.notice.setText(sentence)
        self.notice.setVisible(bool(sentence))

    def set_usable(self, usable: bool) -> None:
        """False while the library is not open, or cannot be (the notice says why)."""
        self._usable = usable
        self._refresh_buttons()

    def lock_adding(self, reason: str) -> None:
        """The organisation lets no folder in: "Add a folder…" is refused, with `reason`."""
        self._adding_lock = reason
        self._refresh_buttons()

    def set_policy_hint(self, sentence: str) -> None:
        self.policy_hint.setText(sentence)
        self.policy_hint.setVisible(bool(sentence))

    def set_folders(self, folders: list[FolderInfo], kept_out: dict[str, str] | None = None) -> None:
        """The library's folders; `kept_out`: path -> why the model may not read that one (the policy)."""
        wanted = {str(info.path): info for info in folders}
        for path in [p for p in self.rows if p not in wanted]:
            row = self.rows.pop(path)
            self._folders_layout.removeWidget(row)
            row.deleteLater()
        for path, info in wanted.items():
            row = self.rows.get(path)
            if row is None:
                row = self.rows[path] = DocumentFolderRow(info)
                row.remove_requested.connect(self.remove_requested)
                self._folders_layout.addWidget(row)
            row.set_info(info, (kept_out or {}).get(path, ""))
        self.empty.setVisible(not self.rows)
        self._refresh_buttons()

    def set_problems(self, problems: list[Skipped]) -> None:
        shown = [p.sentence() for p in problems[:MAX_PROBLEMS_SHOWN]]
        if len(problems) > MAX_PROBLEMS_SHOWN:
            shown.append(f"… and {len(problems) - MAX_PROBLEMS_SHOWN} more.")
        self.problems_text.setText("\n".join(shown))
        self.problems_box.setTitle(f"Files that could not be read ({len(problems)})")
        self.problems_box.setVisible(bool(problems))

    def set_result(self, sentences: list[str]) -> None:
        self.result.setText("\n".join(sentences))
        self.result.setVisible(bool(sentences))

    def start_indexing(self, what: str) -> None:
        self._busy = True
        self.set_result([])
        self.progress.start(what)
        self._refresh_buttons()

    def show_progress(self, progress: IndexProgress) -> None:
        self.progress.show_progress(progress)

    def end_indexing(self) -> None:
        self._busy = False
        self.progress.hide()
        self._refresh_buttons()

    def is_indexing(self) -> bool:
        return self._busy

    def _refresh_buttons(self) -> None:
        free = self._usable and not self._busy
        self.add_button.setEnabled(free and not self._adding_lock)
        self.add_button.setToolTip(self._adding_lock or "Choose a folder whose documents the model may search")
        self.update_button.setEnabled(free)
        for row in self.rows.values():
            row.set_removable(free, "Wait for the indexing to end, or cancel it" if self._busy else "")
