"""Python sandbox tests start real workers (Linux only here); every tool a test opens is closed."""

from __future__ import annotations

import sys

import pytest

from core.sandbox import PythonTool

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux sandbox")


@pytest.fixture
def open_tool():
    """open_tool(**options) -> a started PythonTool, closed when the test ends."""
    tools: list[PythonTool] = []

    def open_(**options) -> PythonTool:
        tool = PythonTool(**options)
        tools.append(tool)
        tool.start()
        return tool

    yield open_
    for tool in tools:
        tool.close()
