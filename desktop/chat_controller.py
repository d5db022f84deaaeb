"""The chat's conversations and turns, on the GUI thread: the person's messages go to the
history and to the inference worker; regenerate (which keeps the earlier versions of an answer),
paging through those versions, edit-and-resend and conversation switching live here. The answer
being written, from the worker's events to its last save, is `AnswerStream`'s
(desktop/answer_stream.py).

With built-in tools on (the chat's "Search my documents" / "Run Python", desktop/tools_controller.py),
each turn gets the chat's toolbox.

When the history cannot take a message (another program holds the file, it is damaged or
read-only), nothing typed is lost: it goes back in the composer and is sent again every
`RETRY_MS` while the banner says what happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop.answer_stream import AnswerStream
from desktop.errors import damaged_chat, history_problem
from desktop.history import NEW_CHAT_TITLE, ChatDamaged, History, HistoryBusy, HistoryError, Message
from desktop.settings import Settings
from desktop.widgets.composer import Composer
from desktop.widgets.transcript import Transcript
from desktop.workers.requests import ChatRequest

RETRY_MS = 2000  # how often a message the history refused is sent again
SEND_RETRIES = 3  # automatic tries of a refused message before the person is asked to press Send
TITLE_CHARS = 48


def title_from(text: str) -> str:
    """A conversation's title from its first message: one line, no Markdown marks, short."""
    line = " ".join(re.sub(r"[*_`#>~]+", "", text).split()) or NEW_CHAT_TITLE
    return line if len(line) <= TITLE_CHARS else line[:TITLE_CHARS - 1].rstrip() + "…"


def prompt_messages(instructions: str, messages: list[Message]) -> list[dict]:
    """The conversation as chat-completions messages. Failed answers are left out: they hold an
    error sentence, not something the model said."""
    chat: list[dict] = [{"role": "system", "content": instructions}] if instructions.strip() else []
    for m in messages:
        if m.role == "user":
            chat.append({"role": "user", "content": m.content})
        elif m.status != "error" and (m.content or m.reasoning):
            chat.append({"role": "assistant", "content": m.content, "reasoning": m.reasoning})
    return chat


@dataclass
class Unsent:
    """A message the history refused: it is back in the composer, and sent again by itself
    while the composer still holds it and the same chat is open."""
    text: str
    conversation_id: int | None
    tries: int = 0


class ChatController(QObject):
    request_generate = Signal(object)  # ChatRequest, queued to the worker's `generate` slot
    busy_changed = Signal(bool)
    notice = Signal(str)
    problem = Signal(str)
    conversations_changed = Signal()
    current_changed = Signal(object)  # conversation id or None

    def __init__(self, history: History, transcript: Transcript, composer: Composer, settings: Settings,
                 stop_fn, parent=None):
        super().__init__(parent)
        self.history = history
        self.transcript = transcript
        self.composer = composer
        self.settings = settings
        self.conversation_id: int | None = None
        self.editing: Message | None = None
        self.model_id = ""
        self.tools = None  # desktop.tools_controller.ToolsController, set by the window
        self.stream = AnswerStream(history, stop_fn, self)  # the answer being written
        self.stream.ended.connect(self._answer_ended)
        self.stream.notice.connect(self.notice)
        self.stream.problem.connect(self.problem)
        self.unsent: Unsent | None = None
        self._retry_timer = QTimer(self)
        self._retry_timer.setInterval(RETRY_MS)
        self._retry_timer.timeout.connect(self._retry)
        composer.send_requested.connect(self.send)
        composer.stop_requested.connect(self.stream.stop)
        composer.edit_cancelled.connect(self._edit_cancelled)
        transcript.regenerate_requested.connect(self.regenerate)
        transcript.edit_requested.connect(self.edit)
        transcript.version_requested.connect(self.show_version)

    @property
    def busy(self) -> bool:
        return self.stream.answer is not None

    # -- conversations -------------------------------------------------------------------
    def new_conversation(self) -> None:
        """A blank chat; it is written to the history only once something is sent."""
        self.conversation_id = None
        self.composer.cancel_edit()  # the message being edited belongs to the chat left
        self.stream.view = None
        self.transcript.clear()
        self.composer.edit.setFocus()
        self.current_changed.emit(None)

    def open_conversation(self, conversation_id: int) -> None:
        if conversation_id == self.conversation_id and self.transcript.views:
            return
        try:
            messages = self.history.messages(conversation_id)
        except ChatDamaged as damage:  # shown as far as it can be read, and said so
            messages = damage.readable
            self.problem.emit(damaged_chat(damage))
        except HistoryError as error:  # the previous chat stays open, and selected
            self.problem.emit(history_problem("This chat could not be opened.", error))
            self.current_changed.emit(self.conversation_id)
            return
        self.conversation_id = conversation_id
        self.composer.cancel_edit()
        self.stream.view = None
        self.transcript.show_messages(self.stream.latest(messages))
        answer = self.stream.answer
        if answer is not None and answer.conversation_id == conversation_id:
            self.stream.show_in(self.transcript.view_for(answer.id))
            self.transcript.update_actions(busy=True)
        self.current_changed.emit(conversation_id)

    def delete_conversation(self, conversation_id: int) -> None:
        if self.stream.answer is not None and self.stream.answer.conversation_id == conversation_id:
            self.stream.stop()
        try:
            self.history.delete_conversation(conversation_id)
        except HistoryError as error:
            self.problem.emit(history_problem("The chat was not deleted.", error))
            return
        if self.tools is not None:
            self.tools.chat_deleted(conversation_id)
        if conversation_id == self.conversation_id:
            self.new_conversation()
        self.conversations_changed.emit()

    # -- a turn ----------------------------------------------------------------------------
    @Slot(str)
    def send(self, text: str) -> None:
        if self.busy:
            return
        try:
            user, answer, chat = self._save_turn(text)
        except HistoryError as error:
            self._keep_unsent(text, error)
            return
        if self.unsent is not None:  # the banner said it was not sent
            self.notice.emit("Your message has been sent.")
        self.unsent = None
        if user.conversation_id != self.conversation_id:
            self.conversation_id = user.conversation_id
            self.current_changed.emit(self.conversation_id)
        if self.editing is not None:
            self._remove_views_from(self.editing.id)
            self.editing = None
            self.composer.end_edit()
        self.transcript.add_message(user)
        self._start_answer(answer, chat)
        self.conversations_changed.emit()

    def _save_turn(self, text: str) -> tuple[Message, Message, list[dict]]:
        """Writes the person's message and the answer's first row together (both or neither:
        a refused message must not leave half a turn), and returns them with the prompt."""
        history, cid = self.history, self.conversation_id
        conversation = history.conversation(cid) if cid is not None else None
        earlier = self._messages(cid) if cid is not None else []
        if self.editing is not None:
            earlier = [m for m in earlier if m.id < self.editing.id]
        with history.transaction():
            if cid is None:
                conversation = history.create_conversation(title_from(text))
                cid = conversation.id
                if self.tools is not None:  # the tools switched on for the new chat go with it
                    self.tools.chat_created(cid)
            elif conversation is not None and conversation.title == NEW_CHAT_TITLE:
                # A chat made before its first message (for its instructions) is named by that message.
                history.rename(cid, title_from(text))
            if self.editing is not None:
                history.delete_from(self.editing)
            user = history.add_message(cid, "user", text)
            answer = history.add_message(cid, "assistant", status="streaming", model=self.model_id)
        return user, answer, prompt_messages(conversation.instructions if conversation else "", [*earlier, user])

    def _keep_unsent(self, text: str, error: HistoryError) -> None:
        """The history refused the message: it goes back in the composer. While another program
        holds the file it is sent again by itself, a few times, before the person is asked."""
        if not self.composer.text().strip():
            self.composer.set_text(text)
        same = self.unsent is not None and self.unsent.text == text
        tries = self.unsent.tries + 1 if same else 0
        if isinstance(error, HistoryBusy) and tries < SEND_RETRIES:
            self.unsent = Unsent(text, self.conversation_id, tries)
            self._retry_timer.start()
            if tries == 0:
                self.problem.emit(history_problem(
                    "Your message was not sent yet.", error,
                    "It is back in the message box, and Hearth tries again in a few seconds."))
            return
        self.unsent = None
        failed = "Your message could still not be sent." if same else "Your message was not sent."
        self.problem.emit(history_problem(failed, error, "It is in the message box: press Send to try again."))

    @Slot(int)
    def regenerate(self, message_id: int) -> None:
        """Writes the latest answer again; the one it replaces is kept among its versions."""
        view = self.transcript.views[-1] if self.transcript.views else None
        if self.busy or self.conversation_id is None or view is None or view.message.id != message_id \
                or view.message.role != "assistant":
            return
        cid = self.conversation_id
        try:
            earlier = [m for m in self._messages(cid) if m.id < message_id]
            conversation = self.history.conversation(cid)
            answer = self.history.new_version(view.message, self.model_id)
        except HistoryError as error:
            self.problem.emit(history_problem("The answer was not written again.", error))
            return
        self.stream.unsaved.pop(message_id, None)  # its last state is kept among the versions now
        self._remove_views_from(message_id)
        self._start_answer(answer, prompt_messages(conversation.instructions if conversation else "", earlier))

    @Slot(int, int)
    def show_version(self, message_id: int, version: int) -> None:
        """Shows another version of an answer; the conversation goes on from the one shown."""
        view = self.transcript.view_for(message_id)
        if self.busy or view is None:
            return
        try:
            shown = self.history.show_version(view.message, version)
        except HistoryError as error:
            self.problem.emit(history_problem("The other version of the answer could not be shown.", error))
            return
        self.stream.unsaved.pop(message_id, None)  # the version left is saved among the others
        view.message = shown
        view.refresh()

    @Slot(int)
    def edit(self, message_id: int) -> None:
        """Puts a message of the person back in the composer, under the edit bar; sending
        replaces it and all after it, Cancel (or Esc) leaves it alone."""
        if self.busy or self.conversation_id is None:
            return
        try:
            target = next((m for m in self._messages(self.conversation_id) if m.id == message_id), None)
        except HistoryError as error:
            self.problem.emit(history_problem("The message could not be edited.", error))
            return
        if target is None or target.role != "user":
            return
        self.editing = target
        self.composer.begin_edit(target.content)

    @Slot()
    def _edit_cancelled(self) -> None:
        self.editing = None  # the message stays as it was: nothing was written

    @Slot()
    def escape(self) -> None:
        """Esc: stops the answer being written, or else stops editing a message."""
        if self.busy:
            self.stream.stop()
        else:
            self.composer.cancel_edit()

    def _messages(self, conversation_id: int) -> list[Message]:
        """The chat's messages, or those that can be read where it is damaged (as the transcript
        shows them; the person was told when it was opened)."""
        try:
            return self.history.messages(conversation_id)
        except ChatDamaged as damage:
            return damage.readable

    def _remove_views_from(self, message_id: int) -> None:
        for view in [v for v in self.transcript.views if v.message.id >= message_id]:
            self.transcript.views.remove(view)
            view.deleteLater()

    def _start_answer(self, answer: Message, chat: list[dict]) -> None:
        """Shows `answer` (already saved as "streaming") and asks the worker for it."""
        cid = answer.conversation_id
        self.stream.start(answer, self.transcript.add_message(answer),
                          self.tools.resolver(cid) if self.tools is not None else None)
        self.transcript.update_actions(busy=True)
        self.composer.set_busy(True)
        self.busy_changed.emit(True)
        tools = self.tools.toolbox(cid) if self.tools is not None else None
        self.request_generate.emit(ChatRequest(chat, self.settings.generation(self.composer.effort.effort()), tools))

    @Slot()
    def _answer_ended(self) -> None:
        self.transcript.update_actions(busy=False)
        self.composer.set_busy(False)
        self.busy_changed.emit(False)
        self.conversations_changed.emit()

    def _retry(self) -> None:
        unsent = self.unsent
        if unsent is not None:
            if (not self.busy and self.composer.send_button.isEnabled() and self.composer.text().strip() == unsent.text
                    and unsent.conversation_id == self.conversation_id):
                self.composer.edit.clear()
                self.send(unsent.text)
            else:
                self.unsent = None  # the person changed it or moved on: it stays where they left it
        if self.unsent is None:
            self._retry_timer.stop()
