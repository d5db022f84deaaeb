"""Each chat's toolbox: made once and kept (its browser pages and Python variables outlive a
switch turned off and on), offering what the turn's switches say, resolving the chat's
citations while it lives, stopped and closed with the chat."""

from __future__ import annotations

from pathlib import Path

from core.chat.browser_tool import Citation
from desktop.chat_tools import ChatTools

CITED = Citation(1, 3, 3, Path("/docs/a.md"), "A", None, 3, 3, None)


class FakeBrowser:
    def resolve(self, cursor, first, last):
        return CITED if (cursor, first, last) == (1, 3, 3) else None


class FakeTools:
    def __init__(self, library):
        self.library, self.offered, self.browser, self.calls = library, (), None, []

    def stop(self):
        self.calls.append("stop")

    def close(self):
        self.calls.append("close")


def test_a_chat_keeps_one_toolbox_offering_what_each_turn_allows():
    library = object()
    made = []
    tools = ChatTools(lambda: library, lambda lib: made.append(FakeTools(lib)) or made[-1])
    first = tools.toolbox(1, ("browser", "python"))
    assert first.offered == ("browser", "python") and first.library is library
    assert tools.toolbox(1, ("python",)) is first and first.offered == ("python",)
    assert tools.toolbox(2, ("browser",)) is not first and len(made) == 2
    assert tools.resolve(1, 1, 3, 3) is None  # no browser has run in the chat
    first.browser = FakeBrowser()
    assert tools.resolve(1, 1, 3, 3) is CITED and tools.resolve(1, 9, 1, 1) is None
    assert tools.resolve(None, 1, 3, 3) is None and tools.resolve(7, 1, 3, 3) is None
    tools.stop(1)
    tools.stop(7)  # a chat without tools: nothing to stop
    tools.close(1)
    assert first.calls == ["stop", "close"] and tools.existing(1) is None and tools.resolve(1, 1, 3, 3) is None
    tools.close_all()
    assert made[1].calls == ["close"]


def test_without_a_library_the_browser_is_not_offered():
    tools = ChatTools(lambda: None, FakeTools)
    assert tools.toolbox(1, ("browser", "python")).offered == ("python",)
