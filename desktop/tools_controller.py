"""A chat's built-in tools on the GUI thread: the "Search my documents" and "Run Python" switches
(kept per chat in the history), what the policy, the document library and this computer's sandbox
allow, the tools each turn gets, the citations of the chat shown (linked while an answer is written,
kept with it after, opened in the document viewer), and Stop.

"Run Python" is checked against the sandbox the first time it is turned on or the Hardware page
shows (`core.sandbox.probe` starts a throw-away worker, a tenth of a second, in the background):
where nothing can keep Python off the network, the switch goes off and says why. A new chat starts
with both off.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from core.chat.browser_tool import Citation
from desktop.chat_tools import ChatTools, Toolbox
from desktop.citations import Resolver
from desktop.documents_controller import DocumentsController
from desktop.errors import history_problem
from desktop.history import History, HistoryError
from desktop.tool_policy import tool_refusal
from desktop.widgets.document_viewer import DocumentViewer, show_citation
from desktop.widgets.tool_switches import ToolSwitches
from desktop.widgets.transcript import Transcript
from desktop.workers.background import BackgroundCall

LIBRARY_OPENING = "The document library is still opening."


def _probe():
    from core.sandbox import probe

    return probe()


class ToolsController(QObject):
    problem = Signal(str)
    sandbox_known = Signal(object)  # core.sandbox.Isolation: what keeps Python off the network here
    sandbox_unavailable = Signal(str)  # why nothing can, a sentence

    def __init__(self, switches: ToolSwitches, transcript: Transcript, history: History, policy,
                 documents: DocumentsController, chat_tools: ChatTools | None = None,
                 probe: Callable[[], object] | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.switches, self.transcript, self.history, self.policy = switches, transcript, history, policy
        self.documents = documents
        self.chat_tools = chat_tools or ChatTools(lambda: documents.library)
        self._probe_fn = probe or _probe
        self._probe: BackgroundCall | None = None
        self._probing = False  # a probe was started and its answer has not arrived yet
        self.sandbox = None  # core.sandbox.Isolation, once the probe said what holds
        self.conversation_id: int | None = None
        self.viewer: DocumentViewer | None = None  # the document viewer opened last
        transcript.citation_activated.connect(self.show_citation)
        switches.set_lock("python", tool_refusal(policy, "python"))
        switches.toggled.connect(self._toggled)
        documents.changed.connect(self._library_changed)
        self._library_changed()

    # -- what a turn gets ------------------------------------------------------------------
    def names(self) -> tuple[str, ...]:
        return self.switches.tools()

    def toolbox(self, conversation_id: int) -> Toolbox | None:
        """The chat's tools for its next turn, offering what is switched on; None when nothing is."""
        names = self.names()
        return self.chat_tools.toolbox(conversation_id, names) if names and not self.model_remote else None

    def set_model_remote(self, remote: bool) -> None:
        """A model on a server cannot use the tools running here: the switches are hidden (each
        chat's choice is kept for when a model on this computer answers again)."""
        self.model_remote = remote
        self.switches.setVisible(not remote)

    def stop(self, conversation_id: int | None) -> None:
        """Stop: a Python call running in the chat ends now (the turn's cancel ends the rest)."""
        self.chat_tools.stop(conversation_id)

    def resolver(self, conversation_id: int) -> Resolver:
        """Where the chat's citations point while its browser lives (desktop/kept_citations.py keeps
        them with each answer)."""
        return lambda cursor, first, last: self.chat_tools.resolve(conversation_id, cursor, first, last)

    # -- the chat shown ----------------------------------------------------------------------
    @Slot(object)
    def set_conversation(self, conversation_id: int | None) -> None:
        """Shows the chat's switches (a new chat's are off) and links its citations."""
        if conversation_id != self.conversation_id or conversation_id is None:
            self.transcript.set_citation_resolver(None if conversation_id is None else self.resolver(conversation_id))
        self.conversation_id = conversation_id
        self._show_switches()

    @Slot(object)
    def show_citation(self, citation: Citation) -> None:
        """A citation link was clicked: the cited place, in the document viewer."""
        self.viewer = show_citation(citation, self.documents.library, self.transcript.window())

    def _show_switches(self) -> None:
        if self.conversation_id is None:
            self.switches.set_tools(())
            return
        with contextlib.suppress(HistoryError):  # the switches stay as they were; nothing is lost
            self.switches.set_tools(self.history.tools(self.conversation_id))

    def chat_created(self, conversation_id: int) -> None:
        """A new chat was just written to the history: it keeps the switches chosen for it."""
        if self.names():
            self.history.set_tools(conversation_id, self.names())

    def chat_deleted(self, conversation_id: int) -> None:
        self.chat_tools.close(conversation_id)

    def shutdown(self) -> None:
        if self._probe is not None:
            self._probe.wait()
        self.chat_tools.close_all()

    # -- the switches ----------------------------------------------------------------------
    @Slot(str, bool)
    def _toggled(self, tool: str, on: bool) -> None:
        if tool == "python" and on and self.sandbox is None:
            self.check_sandbox()
        self._save()

    def _save(self) -> None:
        if self.conversation_id is None:
            return  # kept by the switches until the chat is written (chat_created)
        try:
            self.history.set_tools(self.conversation_id, self.names())
        except HistoryError as error:
            self.problem.emit(history_problem("The chat's tools were not saved.", error,
                                              "They stay as you set them until Hearth closes."))

    def check_sandbox(self) -> None:
        """Finds out in the background what keeps Python off the network here (once it has an
        answer, that one); `sandbox_known` or `sandbox_unavailable` says. The Hardware page asks too."""
        if self.sandbox is not None:
            self.sandbox_known.emit(self.sandbox)
            return
        if self._probing:
            return  # asked already: its answer is on the way (the probe's thread may have ended before it arrives)
        self._probing = True
        self.switches.set_hint("python", "Checking how this computer keeps Python off the network…")
        self._probe = BackgroundCall(self._probe_fn, self)
        self._probe.done.connect(self._sandbox_ready)
        self._probe.failed.connect(self._sandbox_refused)
        self._probe.start()

    @Slot(object)
    def _sandbox_ready(self, isolation) -> None:
        self._probing = False
        self.sandbox = isolation
        summary = isolation.summary() if hasattr(isolation, "summary") else str(isolation)
        self.switches.set_hint("python", f"The model's Python runs with no network: {summary}")
        self.sandbox_known.emit(isolation)

    @Slot(str)
    def _sandbox_refused(self, sentence: str) -> None:
        self._probing = False
        # The policy's reason, where it forbids Python too, stays the one the switch gives.
        self.switches.set_lock("python", tool_refusal(self.policy, "python") or f"Python cannot run here: {sentence}")
        self._save()
        self.sandbox_unavailable.emit(sentence)

    @Slot()
    def _library_changed(self) -> None:
        documents = self.documents
        reason = tool_refusal(self.policy, "browser")
        if reason is None and documents.library is None:
            reason = documents.unavailable or LIBRARY_OPENING
        was_on = "browser" in self.names()
        self.switches.set_lock("browser", reason)
        if reason is None:
            if self.conversation_id is not None and not was_on:  # unlocked now: the chat's choice shows again
                self._show_switches()
            count = len(documents.folders)
            self.switches.set_hint("browser", (
                "The document library is empty: add folders on the Documents page first" if not count else
                f"Let the model search your {count} folder{'s' if count != 1 else ''} on the Documents page "
                "and cite what it read"))
