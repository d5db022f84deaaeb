"""The chat's moving parts, wired together on the GUI thread: the person's messages go to the
history and to the inference worker; the worker's events grow the answer in the transcript
and in the history. Stop, regenerate, edit-and-resend and conversation switching live here.

The answer being written is saved as "streaming" at once and re-saved at most every
`SAVE_INTERVAL_MS` and whenever a message of it ends, so a crash loses at most the last second.
"""

from __future__ import annotations

import re
import time

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from core.chat.answer import Answer
from core.chat.events import Finished, MessageEnded
from desktop.history import NEW_CHAT_TITLE, History, Message
from desktop.settings import Settings
from desktop.widgets.composer import Composer
from desktop.widgets.message_view import MessageView
from desktop.widgets.transcript import Transcript
from desktop.workers.requests import ChatRequest

SAVE_INTERVAL_MS = 1000
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


class ChatController(QObject):
    request_generate = Signal(object)  # ChatRequest, queued to the worker's `generate` slot
    busy_changed = Signal(bool)
    turn_finished = Signal(object)  # core.chat.events.Finished
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
        self._stop_fn = stop_fn  # InferenceWorker.stop: thread-safe, bypasses the busy event queue
        self.conversation_id: int | None = None
        self.answer: Message | None = None
        self.answer_view: MessageView | None = None
        self.editing: Message | None = None
        self.model_id = ""
        self._thinking_since: float | None = None
        self._built = Answer()
        self._dirty = False
        self._save_timer = QTimer(self)
        self._save_timer.setInterval(SAVE_INTERVAL_MS)
        self._save_timer.timeout.connect(self._save_answer)
        composer.send_requested.connect(self.send)
        composer.stop_requested.connect(self.stop)
        transcript.regenerate_requested.connect(self.regenerate)
        transcript.edit_requested.connect(self.edit)

    @property
    def busy(self) -> bool:
        return self.answer is not None

    # -- conversations -------------------------------------------------------------------
    def new_conversation(self) -> None:
        """A blank chat; it is written to the history only once something is sent."""
        self.conversation_id = None
        self.editing = None
        self.answer_view = None
        self.transcript.clear()
        self.composer.edit.setFocus()
        self.current_changed.emit(None)

    def open_conversation(self, conversation_id: int) -> None:
        if conversation_id == self.conversation_id and self.transcript.views:
            return
        self.conversation_id = conversation_id
        self.editing = None
        messages = self.history.messages(conversation_id)
        self.answer_view = None
        if self.answer is not None and self.answer.conversation_id == conversation_id:
            messages = [self.answer if m.id == self.answer.id else m for m in messages]
        self.transcript.show_messages(messages)
        if self.answer is not None and self.answer.conversation_id == conversation_id:
            self.answer_view = self.transcript.view_for(self.answer.id)
            self.transcript.update_actions(busy=True)
        self.current_changed.emit(conversation_id)

    def delete_conversation(self, conversation_id: int) -> None:
        if self.answer is not None and self.answer.conversation_id == conversation_id:
            self.stop()
        self.history.delete_conversation(conversation_id)
        if conversation_id == self.conversation_id:
            self.new_conversation()
        self.conversations_changed.emit()

    # -- a turn ----------------------------------------------------------------------------
    @Slot(str)
    def send(self, text: str) -> None:
        if self.busy:
            return
        if self.conversation_id is None:
            conversation = self.history.create_conversation(title_from(text))
            self.conversation_id = conversation.id
            self.current_changed.emit(conversation.id)
        elif self.editing is not None:
            self._remove_from(self.editing)
        self.editing = None
        conversation = self.history.conversation(self.conversation_id)
        user = self.history.add_message(self.conversation_id, "user", text)
        if conversation is not None and conversation.title == NEW_CHAT_TITLE:
            # A chat made before its first message (for its instructions) is named by that message.
            self.history.rename(self.conversation_id, title_from(text))
        self.transcript.add_message(user)
        self._start_answer()
        self.conversations_changed.emit()

    @Slot(int)
    def regenerate(self, message_id: int) -> None:
        if self.busy or self.conversation_id is None:
            return
        target = next((m for m in self.history.messages(self.conversation_id) if m.id == message_id), None)
        if target is None or target.role != "assistant":
            return
        self._remove_from(target)
        self._start_answer()

    @Slot(int)
    def edit(self, message_id: int) -> None:
        """Puts a message of the person back in the composer; sending replaces it and all after it."""
        if self.busy or self.conversation_id is None:
            return
        target = next((m for m in self.history.messages(self.conversation_id) if m.id == message_id), None)
        if target is None or target.role != "user":
            return
        self.editing = target
        self.composer.set_text(target.content)

    @Slot()
    def stop(self) -> None:
        if self.busy:
            self._stop_fn()

    def _remove_from(self, message: Message) -> None:
        self.history.delete_from(message)
        for view in [v for v in self.transcript.views if v.message.id >= message.id]:
            self.transcript.views.remove(view)
            view.deleteLater()

    def _start_answer(self) -> None:
        conversation = self.history.conversation(self.conversation_id)
        chat = prompt_messages(conversation.instructions if conversation else "",
                               self.history.messages(self.conversation_id))
        self.answer = self.history.add_message(self.conversation_id, "assistant", status="streaming",
                                               model=self.model_id)
        self.answer_view = self.transcript.add_message(self.answer)
        self.answer_view.refresh(running=True)
        self.transcript.update_actions(busy=True)
        self._thinking_since = None
        self._built = Answer()  # core/chat/answer.py: what the events add up to
        self._save_timer.start()
        self.composer.set_busy(True)
        self.busy_changed.emit(True)
        self.request_generate.emit(ChatRequest(chat, self.settings.generation(self.composer.effort.effort())))

    # -- the worker's signals --------------------------------------------------------------
    @Slot(list)
    def on_events(self, events: list) -> None:
        answer = self.answer
        if answer is None:
            return
        now = time.monotonic()
        save = False
        for event in events:
            for piece in self._built.add(event):
                if piece.kind == "reasoning":
                    if self._thinking_since is None:
                        self._thinking_since = now
                    answer.reasoning += piece.text
                elif piece.kind == "content":
                    if self._thinking_since is not None and answer.reasoning_seconds is None:
                        answer.reasoning_seconds = now - self._thinking_since
                    answer.content += piece.text
                elif piece.kind == "notice":
                    self.notice.emit(piece.text)
            if isinstance(event, MessageEnded):
                save = True
            elif isinstance(event, Finished):
                self._finish(event, now)
                return
        self._dirty = True
        if save:
            self._save_answer()
        if self.answer_view is not None:
            self.answer_view.refresh(running=True)

    @Slot(str)
    def on_generation_failed(self, sentence: str) -> None:
        if self.answer is None:
            return
        self.answer.stats = {**self.answer.stats, "error": sentence}
        self.answer.status = "error"
        self._end_answer()
        self.problem.emit(sentence)

    def _finish(self, finished: Finished, now: float) -> None:
        answer = self.answer
        if self._thinking_since is not None and answer.reasoning_seconds is None:
            answer.reasoning_seconds = now - self._thinking_since
        answer.status = {"cancelled": "stopped", "error": "error"}.get(finished.reason, "complete")
        answer.stats = {
            "reason": finished.reason, "prompt_tokens": finished.prompt_tokens,
            "generated_tokens": finished.generated_tokens,
            "tokens_per_second": round(finished.decode_tokens_per_second, 2),
            "time_to_first_token": round(finished.time_to_first_token, 3),
        }
        if finished.error:
            answer.stats["error"] = finished.error
        self._end_answer()
        self.turn_finished.emit(finished)
        if finished.error:
            self.problem.emit(finished.error)

    def _end_answer(self) -> None:
        self._save_timer.stop()
        self._dirty = True
        self._save_answer()
        if self.answer_view is not None:
            self.answer_view.refresh(running=False)
        self.answer = None
        self.transcript.update_actions(busy=False)
        self.composer.set_busy(False)
        self.busy_changed.emit(False)
        self.conversations_changed.emit()

    def abandon_answer(self) -> None:
        """At shutdown: an answer still open is saved as stopped, with what it has."""
        if self.answer is not None:
            self.answer.status = "stopped"
            self._end_answer()

    def _save_answer(self) -> None:
        if self.answer is not None and self._dirty:
            self.history.update_message(self.answer)
            self._dirty = False
