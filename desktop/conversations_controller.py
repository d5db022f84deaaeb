"""The list of chats and what is done to a chat as a whole, on the GUI thread: the list (and its
search), renaming, deleting (after asking), exporting as Markdown or JSON, and the chat's
instructions, which are kept when the history refuses them so that nothing written is lost.
When another chat is shown, its Export and Instructions buttons and the context figure follow it.
What happens inside a chat (its turns, the answer being written) is desktop/chat_controller.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from desktop import export
from desktop.chat_controller import ChatController
from desktop.errors import history_problem
from desktop.file_dialogs import choose_save_path
from desktop.history import ChatDamaged, History, HistoryError
from desktop.settings import Settings
from desktop.widgets.chat_page import ChatPage
from desktop.widgets.instructions_dialog import InstructionsDialog


class ConversationsController(QObject):
    problem = Signal(str)
    note = Signal(str)  # a short sentence for the status bar: a chat was exported
    exportable = Signal(bool)  # whether the chat shown can be exported: a new one is saved only once something is sent
    context_used = Signal(object)  # tokens the chat shown last left in the context, None when unknown

    def __init__(self, history: History, chat: ChatController, page: ChatPage, settings: Settings, tools,
                 confirm: Callable[[str, str], bool], reasoning_display: Callable[[], str],
                 dialog_parent: QWidget | None = None, parent: QObject | None = None):
        """`tools`: desktop.tools_controller.ToolsController (a chat made for its instructions takes
        the tools switched on); `confirm(question, detail)` asks the person yes or no;
        `reasoning_display()` says how reasoning is shown, which an export follows."""
        super().__init__(parent)
        self.history, self.chat, self.page, self.settings, self.tools = history, chat, page, settings, tools
        self.confirm, self.reasoning_display, self.dialog_parent = confirm, reasoning_display, dialog_parent
        self.list = page.conversation_list
        self._unsaved_instructions: dict[int, str] = {}  # chat id -> what the history refused
        self.list.selected.connect(chat.open_conversation)
        self.list.renamed.connect(self.rename)
        self.list.delete_requested.connect(self.delete)
        self.list.export_requested.connect(self.export)
        self.list.search_changed.connect(self.refresh)
        page.instructions_requested.connect(self.edit_instructions)
        page.export_requested.connect(self.export_current)

    @Slot()
    def refresh(self, *_args) -> None:
        try:
            conversations = self.history.conversations(self.list.search.text())
        except HistoryError as error:  # the list keeps what it showed
            self.problem.emit(history_problem("The list of chats could not be read.", error))
            return
        self.list.set_conversations(conversations, self.chat.conversation_id)

    @Slot(object)
    def show_current(self, conversation_id) -> None:
        """Another chat is shown (None: a new one)."""
        self.page.instructions_button.setEnabled(True)
        self.page.export_button.setEnabled(conversation_id is not None)
        self.exportable.emit(conversation_id is not None)
        if not self.chat.busy:  # a running answer reports its own figures when it ends
            self.context_used.emit(self._context_used(conversation_id))
        self.refresh()

    def _context_used(self, conversation_id) -> int | None:
        """Tokens the chat's last finished answer left in the context, from its saved figures."""
        if conversation_id is None:
            return None
        try:
            messages = self.history.messages(conversation_id)
        except HistoryError:
            return None
        for message in reversed(messages):
            stats = message.stats or {}
            if message.role == "assistant" and "prompt_tokens" in stats and "generated_tokens" in stats:
                return stats["prompt_tokens"] + stats["generated_tokens"]
        return None

    @Slot(int, str)
    def rename(self, conversation_id: int, title: str) -> None:
        try:
            self.history.rename(conversation_id, title)
        except HistoryError as error:
            self.problem.emit(history_problem("The chat was not renamed.", error))
            # Put the saved title back once the list has finished with the edited item.
            QTimer.singleShot(0, self, self.refresh)

    @Slot(int)
    def delete(self, conversation_id: int) -> None:
        try:
            conversation = self.history.conversation(conversation_id)
        except HistoryError as error:
            self.problem.emit(history_problem("The chat was not deleted.", error))
            return
        if conversation and self.confirm(f"Delete the chat “{conversation.title}”?",
                                         "Its messages are removed from this computer for good."):
            self.chat.delete_conversation(conversation_id)

    @Slot()
    def edit_instructions(self) -> None:
        cid = self.chat.conversation_id
        try:
            if cid is None:  # instructions belong to a conversation: make one now
                cid = self.history.create_conversation().id
                self.tools.chat_created(cid)
                self.chat.open_conversation(cid)
            conversation = self.history.conversation(cid)
        except HistoryError as error:
            self.problem.emit(history_problem("The instructions could not be opened.", error))
            return
        saved = conversation.instructions if conversation else ""
        dialog = InstructionsDialog(self._unsaved_instructions.pop(cid, saved), self.dialog_parent)
        if dialog.exec():
            try:
                self.history.set_instructions(cid, dialog.instructions())
            except HistoryError as error:
                self._unsaved_instructions[cid] = dialog.instructions()
                self.problem.emit(history_problem("The instructions were not saved.", error,
                                                  "What you wrote is kept: press Instructions… to try again."))

    @Slot()
    def export_current(self) -> None:
        self.export(self.chat.conversation_id)

    @Slot(int)
    def export(self, conversation_id: int | None) -> None:
        try:
            conversation = self.history.conversation(conversation_id) if conversation_id else None
        except HistoryError as error:
            self.problem.emit(history_problem("The chat could not be exported.", error))
            return
        if conversation is None:
            return
        path, chosen = choose_save_path(self.dialog_parent, "Export chat", self.settings.chat_export_folder,
                                        f"{export.file_name(conversation.title)}.md",
                                        "Markdown (*.md);;JSON, every channel (*.json)")
        if not path:
            return
        self.settings.chat_export_folder = str(Path(path).parent)
        try:
            messages = self.history.messages(conversation.id)
        except ChatDamaged as damage:  # what can be read is worth keeping
            messages = damage.readable
        except HistoryError as error:
            self.problem.emit(history_problem("The chat could not be exported.", error))
            return
        as_json = path.endswith(".json") or chosen.startswith("JSON")
        writer = export.to_json if as_json else export.to_markdown
        text = writer(conversation, messages, include_reasoning=self.reasoning_display() != "hidden")
        try:
            Path(path).write_text(text, encoding="utf-8")
        except OSError as error:
            self.problem.emit(f"The chat could not be saved to {path}: {error.strerror}.")
            return
        self.note.emit(f"Saved “{conversation.title}” to {path}")
