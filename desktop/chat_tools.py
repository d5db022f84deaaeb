"""The built-in tools of each chat while Hearth runs: one toolbox per chat (the core's
`BuiltinTools`: a `BrowserTool` over the document library, whose pages are what the answers'
citations point at, and a `PythonTool`, a sandboxed notebook whose variables survive from one
answer to the next), made when a chat's turn first needs it.

Made on the GUI thread (cheap: each tool is made on its first call, and the sandbox's process then),
used by the inference worker's thread during a turn, and asked from the GUI thread for citations
and for Stop. Which built-ins a turn offers is set on the chat's toolbox when the turn starts, so
switching one off and on again keeps the chat's pages and variables. A chat's toolbox ends when the
chat is deleted or Hearth closes; each answer keeps where its citations point (desktop/kept_citations.py),
so they stay links after that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from core.chat.browser_tool import BrowserTool, Citation
from core.chat.builtin_tools import offered_builtins
from core.docs import Library


class Toolbox(Protocol):
    """What the window needs of a chat's tools (core.chat.tool_turns.BuiltinTools has it)."""

    offered: tuple[str, ...]  # the built-ins this turn offers: "browser", "python"

    @property
    def browser(self) -> BrowserTool | None: ...  # the chat's browser, once it has run

    def stop(self) -> None: ...  # a running Python call ends (thread-safe)

    def close(self) -> None: ...  # the Python worker and its folder go


def builtin_tools(library: Library | None) -> Toolbox:
    from core.chat.tool_turns import BuiltinTools  # the turn loop, and the sandbox behind it, load on first use

    return BuiltinTools(library=library)


class ChatTools:
    """`library()` gives the document library (None while it cannot be used); `factory(library)`
    makes a chat's toolbox (tests give a fake)."""

    def __init__(self, library: Callable[[], Library | None],
                 factory: Callable[[Library | None], Toolbox] = builtin_tools):
        self._library = library
        self._factory = factory
        self._tools: dict[int, Toolbox] = {}

    def toolbox(self, conversation_id: int, offered: tuple[str, ...]) -> Toolbox:
        """The chat's toolbox, offering `offered` ("browser" is left out while there is no library)."""
        tools = self._tools.get(conversation_id)
        library = self._library()
        if tools is None:
            tools = self._tools[conversation_id] = self._factory(library)
        tools.offered = offered_builtins([name for name in offered if name != "browser" or library is not None])
        return tools

    def existing(self, conversation_id: int | None) -> Toolbox | None:
        """The chat's toolbox, if it has one yet."""
        return self._tools.get(conversation_id) if conversation_id is not None else None

    def resolve(self, conversation_id: int | None, cursor: int, first: int, last: int) -> Citation | None:
        """Where a citation in the chat's answers points, while the chat's browser is alive."""
        tools = self.existing(conversation_id)
        browser = tools.browser if tools is not None else None
        return browser.resolve(cursor, first, last) if browser is not None else None

    def stop(self, conversation_id: int | None) -> None:
        tools = self.existing(conversation_id)
        if tools is not None:
            tools.stop()

    def close(self, conversation_id: int) -> None:
        """The chat was deleted: its notebook ends and its pages are forgotten."""
        tools = self._tools.pop(conversation_id, None)
        if tools is not None:
            tools.close()

    def close_all(self) -> None:
        for conversation_id in list(self._tools):
            self.close(conversation_id)
