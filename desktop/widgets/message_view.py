"""One message of the transcript: who wrote it, how far the model has read a long message
(while it reads), its reasoning (folded), the built-in tools it used (each folded, with the call
and the result), its Markdown (citations as links: the chat's browser knows those of the answer
being written, an answer written keeps its own, desktop/kept_citations.py), a note
when it did not finish, and its actions (copy as plain text or as Markdown; edit for the person's
messages; regenerate for the model's last answer, and "< 2/3 >" to page through the versions of an
answer written more than once).

How the reasoning appears follows the reasoning display in force (`Policy.effective_reasoning_display`):
"hidden" leaves the Thinking section out entirely, "collapsed" folds it, "shown" unfolds it. The tool
calls are shown under every display (they are what ran on this computer), folded unless "shown"."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from desktop.citations import Resolver
from desktop.history import Message
from desktop.kept_citations import KEY, kept_resolver
from desktop.markdown import to_plain_markdown
from desktop.plain_text import to_plain_text
from desktop.reading import Reading
from desktop.tool_steps import steps_of
from desktop.widgets.markdown_view import MarkdownView
from desktop.widgets.reading_progress import ReadingProgress
from desktop.widgets.thinking_section import ThinkingSection
from desktop.widgets.tool_step_view import ToolStepView
from desktop.widgets.version_pager import VersionPager

STATUS_NOTES = {
    "interrupted": "This answer was cut short when Hearth closed. Regenerate it to get a full answer.",
    "stopped": "You stopped this answer.",
}


class MessageView(QFrame):
    citation_activated = Signal(object)  # core.chat.browser_tool.Citation: a citation link was clicked
    edit_requested = Signal(int)  # message id
    regenerate_requested = Signal(int)
    version_requested = Signal(int, int)  # message id, the version to show (from 1)

    def __init__(self, message: Message, parent=None, reasoning_display: str = "collapsed"):
        super().__init__(parent)
        self.message = message
        self.reasoning_display = reasoning_display
        self._running = False
        self._reading: Reading | None = None
        self._live: Resolver | None = None  # the chat's browser, for the answer being written
        self._linked: tuple | None = None  # what the body's citations are linked from now
        self.setObjectName("userMessage" if message.role == "user" else "assistantMessage")
        who = "You" if message.role == "user" else "Hearth"
        self.setAccessibleName(f"Message from {who}")
        self.author = QLabel(who)
        self.author.setObjectName("messageAuthor")
        self.reading = ReadingProgress()
        self.reading.setVisible(False)
        self.thinking = ThinkingSection()
        self.thinking.setVisible(False)
        self.steps: list[ToolStepView] = []
        self._steps_layout = QVBoxLayout()
        self._steps_layout.setContentsMargins(0, 0, 0, 0)
        self._steps_layout.setSpacing(2)
        self.body = MarkdownView()
        self.body.citation_activated.connect(self.citation_activated)
        self.note = QLabel()
        self.note.setObjectName("messageNote")
        self.note.setWordWrap(True)
        self.note.setVisible(False)

        self.copy_button = self._action("Copy", "Copy this message as plain text", self.copy)
        self.copy_markdown_button = self._action("Copy as Markdown", "Copy this message's Markdown source",
                                                 self.copy_markdown)
        self.edit_button = self._action("Edit", "Edit and resend this message",
                                        lambda: self.edit_requested.emit(self.message.id))
        self.regenerate_button = self._action("Regenerate", "Write this answer again",
                                              lambda: self.regenerate_requested.emit(self.message.id))
        self.edit_button.setVisible(message.role == "user")
        self.regenerate_button.setVisible(False)
        self.pager = VersionPager(self)
        self.pager.version_requested.connect(lambda version: self.version_requested.emit(self.message.id, version))
        actions = QHBoxLayout()
        actions.setContentsMargins(0, 0, 0, 0)
        actions.addWidget(self.pager)
        actions.addStretch(1)
        for button in (self.copy_button, self.copy_markdown_button, self.edit_button, self.regenerate_button):
            actions.addWidget(button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.addWidget(self.author)
        layout.addWidget(self.reading)
        layout.addWidget(self.thinking)
        layout.addLayout(self._steps_layout)
        layout.addWidget(self.body)
        layout.addWidget(self.note)
        layout.addLayout(actions)
        self.thinking.set_expanded(reasoning_display == "shown")
        self.refresh()

    def _action(self, text: str, accessible: str, slot) -> QPushButton:
        # Parented at once: showing a parentless button would open it as its own window.
        button = QPushButton(text, self)
        button.setObjectName("messageAction")
        button.setFlat(True)
        button.setAccessibleName(accessible)
        button.setToolTip(accessible)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.clicked.connect(slot)
        return button

    def refresh(self, running: bool = False) -> None:
        """Shows `self.message` as it is now; `running` while its answer is still coming."""
        m = self.message
        self._running = running
        if m.role == "assistant":
            # Reading a long message comes first; it gives way as soon as the model writes.
            reading = running and self._reading is not None and not (m.reasoning or m.content)
            self.reading.setVisible(reading)
            show = self.reasoning_display != "hidden" and not reading
            self.thinking.setVisible(show and (bool(m.reasoning) or (running and not m.content)))
            self.thinking.set_text(m.reasoning)
            self.thinking.set_running(running and not m.content)
            self.thinking.set_duration(m.reasoning_seconds)
            self._show_steps()
            self._link_citations()
        self.body.set_text(m.content)
        self.pager.set_versions(m.version, m.versions)
        note = STATUS_NOTES.get(m.status, "")
        if m.status == "complete" and m.stats.get("reason") == "length":
            note = ("This answer reached the length limit (Settings → Longest answer). "
                    "Ask the model to go on, or raise the limit.")
        if m.status == "error":
            note = m.stats.get("error", "The answer could not be finished.")
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self.copy_button.setEnabled(not running)
        self.copy_markdown_button.setEnabled(not running)
        self.edit_button.setEnabled(not running)

    def _show_steps(self) -> None:
        """The answer's tool calls, from its stats: views kept and updated, added, or removed."""
        steps = steps_of(self.message.stats)
        for view in self.steps[len(steps):]:
            self._steps_layout.removeWidget(view)
            view.deleteLater()
        del self.steps[len(steps):]
        for i, step in enumerate(steps):
            if i < len(self.steps):
                if self.steps[i].step != step:
                    self.steps[i].set_step(step)
                continue
            view = ToolStepView(step, self)
            view.set_expanded(self.reasoning_display == "shown")
            self._steps_layout.addWidget(view)
            self.steps.append(view)

    def set_citation_resolver(self, resolve: Resolver | None) -> None:
        """The chat's browser (None: there is none): it links the citations of the answer being
        written; an answer written links those it keeps."""
        self._live = resolve
        if self.message.role == "assistant":
            self._link_citations()

    def _link_citations(self) -> None:
        # Linked again only when their source changes: that renders every paragraph again.
        linked = ("live", self._live) if self._running else ("kept", self.message.stats.get(KEY))
        if linked != self._linked:
            self._linked = linked
            self.body.set_citation_resolver(self._live if self._running else kept_resolver(self.message.stats))

    def set_reading(self, reading: Reading | None) -> None:
        """How far the model has read the prompt of the answer being written; None once it
        writes (or when the prompt is short enough to need no progress). Shown by `refresh`."""
        self._reading = reading
        if reading is not None:
            self.reading.show_reading(reading)

    def set_reasoning_display(self, display: str) -> None:
        self.reasoning_display = display
        self.thinking.set_expanded(display == "shown")
        for view in self.steps:
            view.set_expanded(display == "shown")
        self.refresh(self._running)

    def set_can_regenerate(self, can: bool) -> None:
        """`can`: this is the latest answer and nothing is being written. Its versions can then
        be paged too; an earlier answer's are fixed by the messages that follow it."""
        self.regenerate_button.setVisible(can and self.message.role == "assistant")
        self.pager.set_can_page(can)

    def copy(self) -> None:
        """The message as it reads on screen, without Markdown's marks."""
        QGuiApplication.clipboard().setText(to_plain_text(self.message.content))

    def copy_markdown(self) -> None:
        QGuiApplication.clipboard().setText(to_plain_markdown(self.message.content))
