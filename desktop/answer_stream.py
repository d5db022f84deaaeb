"""The answer being written, from the moment it is asked for until it ends: the worker's events
grow it in its view and in the history, a long prompt's reading shows as progress, each built-in
tool call it makes is kept as a step (desktop/tool_steps.py), and it ends finished, failed,
stopped by the person or cut short by Hearth closing.

It is saved as "streaming" at once (by the chat, desktop/chat_controller.py, with the person's
message) and re-saved at most every `SAVE_INTERVAL_MS` and whenever a message of it ends, so a
crash loses at most the last second. When the history refuses a save, the answer stays on
screen and is tried again every `RETRY_MS` while the banner says what happened.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from core.chat.answer import Answer
from core.chat.events import Finished, MessageEnded, PromptProgress
from desktop.citations import Resolver
from desktop.errors import history_problem
from desktop.history import History, HistoryError, Message
from desktop.kept_citations import with_citations
from desktop.reading import Reading
from desktop.tool_steps import AnswerSteps
from desktop.widgets.message_view import MessageView

SAVE_INTERVAL_MS = 1000
RETRY_MS = 2000  # how often an answer the history refused is saved again


class AnswerStream(QObject):
    turn_finished = Signal(object)  # core.chat.events.Finished
    ended = Signal()  # the answer ended (finished, failed or abandoned), saved and its view still
    notice = Signal(str)
    problem = Signal(str)

    def __init__(self, history: History, stop_fn, parent=None):
        super().__init__(parent)
        self.history = history
        self._stop_fn = stop_fn  # InferenceWorker.stop: thread-safe, bypasses the busy event queue
        self._closing = False  # Hearth is closing: a cancelled answer was cut short, not stopped
        self.answer: Message | None = None
        self.view: MessageView | None = None  # the answer's view, while its chat is shown
        self._resolve: Resolver | None = None  # where the chat's citations point
        self._thinking_since: float | None = None
        self._asked_at = 0.0  # when the answer was asked for: the reading rate is measured from it
        self._reading: Reading | None = None  # how far a long message is read, until the model writes
        self._built = Answer()
        self._steps = AnswerSteps()  # the answer's built-in tool calls
        self._dirty = False
        self._save_timer = QTimer(self)
        self._save_timer.setInterval(SAVE_INTERVAL_MS)
        self._save_timer.timeout.connect(self._save_answer)
        self.unsaved: dict[int, Message] = {}  # answers whose last state the history refused
        self._retry_timer = QTimer(self)
        self._retry_timer.setInterval(RETRY_MS)
        self._retry_timer.timeout.connect(self._retry)

    def start(self, answer: Message, view: MessageView, resolve: Resolver | None) -> None:
        """`answer` (already saved as "streaming") is being written into `view`."""
        self.answer, self.view, self._resolve = answer, view, resolve
        view.refresh(running=True)
        self._thinking_since = None
        self._asked_at, self._reading = time.monotonic(), None
        self._built = Answer()  # core/chat/answer.py: what the events add up to
        self._steps = AnswerSteps()
        self._save_timer.start()

    def show_in(self, view: MessageView | None) -> None:
        """Its chat is opened again: the answer goes on in `view`."""
        self.view = view
        if view is not None:
            view.set_reading(self._reading)
            view.refresh(running=True)

    def latest(self, messages: list[Message]) -> list[Message]:
        """`messages` as last written here: the answer being written and those the history
        refused stand in for what the history holds of them."""
        newer = {**self.unsaved, **({self.answer.id: self.answer} if self.answer is not None else {})}
        return [newer.get(m.id, m) for m in messages]

    @Slot()
    def stop(self) -> None:
        if self.answer is not None:
            self._steps.stop()
            self._stop_fn()

    def stop_for_closing(self) -> None:
        """Hearth closes: the answer being written ends as "interrupted" (cut short when Hearth
        closed), not as stopped by the person."""
        self._closing = True
        self.stop()

    def abandon(self) -> None:
        """At shutdown: an answer still open is saved as cut short, with what it has."""
        if self.answer is not None:
            self.answer.status = "interrupted"
            self._end()

    # -- the worker's signals --------------------------------------------------------------
    @Slot(list)
    def on_events(self, events: list) -> None:
        answer = self.answer
        if answer is None:
            return
        now = time.monotonic()
        save = False
        for event in events:
            if isinstance(event, PromptProgress):
                reading = Reading.measure(event, self._asked_at, now)
                self._reading = None if reading.finished else reading
            for piece in self._built.add(event):
                if piece.kind in ("reasoning", "content"):
                    self._reading = None  # the model writes: reading is over
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
                elif piece.call is not None and self._steps.add(piece, self._built.calls):
                    self._keep_steps()
                    save = save or piece.kind == "tool_result"
            if isinstance(event, MessageEnded):
                save = True
            elif isinstance(event, Finished):
                self._finish(event, now)
                return
        self._dirty = True
        if save:
            self._save_answer()
        if self.view is not None:
            self.view.set_reading(self._reading)
            self.view.refresh(running=True)

    def _keep_steps(self, ended: str | None = None) -> None:
        """The answer's tool steps into its stats, where the history keeps them."""
        if self._steps.steps and self.answer is not None:
            if ended is not None:
                self._steps.end(ended)
            self.answer.stats = {**self.answer.stats, "tools": self._steps.as_stats()}

    @Slot(str)
    def on_generation_failed(self, sentence: str) -> None:
        if self.answer is None:
            return
        self._keep_steps("error")
        self.answer.stats = {**self.answer.stats, "error": sentence}
        self.answer.status = "error"
        self._end()
        self.problem.emit(sentence)

    def _finish(self, finished: Finished, now: float) -> None:
        answer = self.answer
        if self._thinking_since is not None and answer.reasoning_seconds is None:
            answer.reasoning_seconds = now - self._thinking_since
        stopped = "interrupted" if self._closing else "stopped"
        answer.status = {"cancelled": stopped, "error": "error"}.get(finished.reason, "complete")
        answer.stats = {
            "reason": finished.reason, "prompt_tokens": finished.prompt_tokens,
            "generated_tokens": finished.generated_tokens,
            "tokens_per_second": round(finished.decode_tokens_per_second, 2),
            "time_to_first_token": round(finished.time_to_first_token, 3),
        }
        if finished.error:
            answer.stats["error"] = finished.error
        self._keep_steps(finished.reason)
        self._end()
        self.turn_finished.emit(finished)
        if finished.error:
            self.problem.emit(finished.error)

    def _end(self) -> None:
        self._save_timer.stop()
        self._reading = None
        self._dirty = True
        self._save_answer()
        if self.view is not None:
            self.view.set_reading(None)
            self.view.refresh(running=False)
        self.answer = None
        self.ended.emit()

    # -- saving ----------------------------------------------------------------------------
    def _save_answer(self) -> None:
        if self.answer is not None and self._dirty:
            if self._resolve is not None:  # its citations are kept with it: the chat's browser ends with Hearth
                answer = self.answer
                answer.stats = with_citations(answer.stats, answer.content, self._resolve)
            self._dirty = not self._save(self.answer)

    def _save(self, message: Message) -> bool:
        """Writes `message`; when the history refuses, it is kept to be tried again (the person is
        told once, and told again when every answer is saved)."""
        try:
            self.history.update_message(message)
        except HistoryError as error:
            if not self.unsaved:
                self.problem.emit(history_problem(
                    "The answer could not be saved yet.", error,
                    "It stays on screen, and Hearth keeps trying to save it."))
            self.unsaved[message.id] = message
            self._retry_timer.start()
            return False
        if self.unsaved.pop(message.id, None) is not None and not self.unsaved:
            self.notice.emit("The answer has been saved.")
        return True

    def _retry(self) -> None:
        for message in list(self.unsaved.values()):
            if message is not self.answer:  # the answer being written is saved by its own timer
                self._save(message)
        if not self.unsaved:
            self._retry_timer.stop()
