"""gpt-oss's built-in tools as the model knows them: the `browser` and `python` namespaces it was
trained with, and what a call to one of them is.

Owns: the canonical declarations, which go in the system message (function tools go in the
developer message) and are token-identical to openai-harmony's `SystemContent.with_browser_tool()`
and `.with_python_tool()`; which call names are built-in (`browser.search`, `browser.open`,
`browser.find`, `python`: anything in those namespaces, never `functions.x`); and the short result a
call to a built-in this chat does not offer gets. Running the tools (the browser over local
documents, the Python sandbox) lives elsewhere.

How a built-in call travels (as in the reference, openai/gpt-oss `gpt_oss/chat.py` and its tools):
the model writes `<|channel|>analysis to=browser.search code<|message|>{"query": ...}<|call|>`; in a
chat-completions history it is an assistant `tool_calls` entry named `browser.search` (arguments: the
JSON text; for `python`, the code), and the tool's answer a `tool` message with that `name` (or the
call's `tool_call_id`), rendered `<|start|>browser.search to=assistant<|channel|>analysis<|message|>`.

The turn loop (render -> generate -> parse) answers every built-in call itself and never fails on
one: when the parser's `ToolCall` has `builtin` set and `is_offered(call.name, builtin_tools)` is
false (the person turned the tool off, or the model made up `browser.fetch`), it appends the call and
`{"role": "tool", "tool_call_id": id, "name": call.name, "content": unavailable_tool_result(call.name)}`
to the messages and generates again, as it does after a real tool result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.chat.harmony_tools import namespace_section
from core.errors import InvalidInput

CALL_CHANNEL = "analysis"  # where the model was trained to send built-in calls, and gets their results
CALL_CONTENT_TYPE = "code"  # what it writes after the recipient: `to=python code`, `to=browser.open code`


@dataclass(frozen=True)
class ToolNamespace:
    """One `## name` section of the system message's `# Tools`: a description, and the namespace's
    functions (`{"name", "description", "parameters"}`, as `function_tools` gives them), if any."""

    name: str
    description: str
    functions: tuple[dict[str, Any], ...] = ()

    def section(self) -> str:
        return namespace_section(self.name, self.description, list(self.functions))


_NUMBER_DEFAULT_MINUS_ONE = {"type": "number", "default": -1}

BROWSER = ToolNamespace(
    "browser",
    "Tool for browsing.\n"
    "The `cursor` appears in brackets before each browsing display: `[{cursor}]`.\n"
    "Cite information from the tool using the following format:\n"
    "`【{cursor}†L{line_start}(-L{line_end})?】`, for example: `【6†L9-L11】` or `【8†L3】`.\n"
    "Do not quote more than 10 words directly from the tool output.\n"
    "sources=web (default: web)",
    (
        {"name": "search",
         "description": "Searches for information related to `query` and displays `topn` results.",
         "parameters": {"type": "object",
                        "properties": {"query": {"type": "string"},
                                       "topn": {"type": "number", "default": 10},
                                       "source": {"type": "string"}},
                        "required": ["query"]}},
        {"name": "open",
         "description": "Opens the link `id` from the page indicated by `cursor` starting at line number `loc`, "
                        "showing `num_lines` lines.\n"
                        "Valid link ids are displayed with the formatting: `【{id}†.*】`.\n"
                        "If `cursor` is not provided, the most recent page is implied.\n"
                        "If `id` is a string, it is treated as a fully qualified URL associated with `source`.\n"
                        "If `loc` is not provided, the viewport will be positioned at the beginning of the "
                        "document or centered on the most relevant passage, if available.\n"
                        "Use this function without `id` to scroll to a new location of an opened page.",
         "parameters": {"type": "object",
                        "properties": {"id": {"type": ["number", "string"], "default": -1},
                                       "cursor": _NUMBER_DEFAULT_MINUS_ONE,
                                       "loc": _NUMBER_DEFAULT_MINUS_ONE,
                                       "num_lines": _NUMBER_DEFAULT_MINUS_ONE,
                                       "view_source": {"type": "boolean", "default": False},
                                       "source": {"type": "string"}}}},
        {"name": "find",
         "description": "Finds exact matches of `pattern` in the current page, or the page given by `cursor`.",
         "parameters": {"type": "object",
                        "properties": {"pattern": {"type": "string"}, "cursor": _NUMBER_DEFAULT_MINUS_ONE},
                        "required": ["pattern"]}},
    ),
)

# The text the model was trained on, kept word for word (even "Internet access ... UNKNOWN"): a
# different wording costs accuracy, and the sandbox's own limits are enforced, not described.
PYTHON = ToolNamespace(
    "python",
    "Use this tool to execute Python code in your chain of thought. The code will not be shown to the user. "
    "This tool should be used for internal reasoning, but not for code that is intended to be visible to the "
    "user (e.g. when creating plots, tables, or files).\n\n"
    "When you send a message containing Python code to python, it will be executed in a stateful Jupyter "
    "notebook environment. python will respond with the output of the execution or time out after 120.0 "
    "seconds. The drive at '/mnt/data' can be used to save and persist user files. Internet access for this "
    "session is UNKNOWN. Depends on the cluster.",
)

BUILTIN_TOOLS = {"browser": BROWSER, "python": PYTHON}  # in the order harmony renders them (by name)


def offered_builtins(names: Sequence[str] | None) -> tuple[str, ...]:
    """The offered built-ins, checked, without repeats, in the canonical order."""
    names = tuple(names or ())
    unknown = [n for n in names if n not in BUILTIN_TOOLS]
    if unknown:
        raise InvalidInput(f"There is no built-in tool {unknown[0]!r}; gpt-oss knows "
                           f"{' and '.join(BUILTIN_TOOLS)}.")
    return tuple(n for n in BUILTIN_TOOLS if n in names)


def builtin_tools_section(names: Sequence[str]) -> str:
    """The `# Tools` section of the system message; empty when no built-in is offered."""
    offered = offered_builtins(names)
    if not offered:
        return ""
    return "\n\n".join(["# Tools", *(BUILTIN_TOOLS[n].section() for n in offered)])


def builtin_namespace(name: str) -> str | None:
    """The built-in namespace a call name belongs to: `browser` for `browser.search` (any
    `browser.x`, even one the browser lacks), `python` for `python`; None for anything else, function
    calls (`functions.x`, or a bare function name) included."""
    if name == "python":
        return "python"
    return "browser" if name.startswith("browser.") else None


def is_builtin(name: str) -> bool:
    return builtin_namespace(name) is not None


def is_offered(name: str, offered: Sequence[str]) -> bool:
    """Whether a built-in call named `name` reaches a tool this chat offers: its namespace is
    offered and, for the browser, the function is one it has."""
    namespace = builtin_namespace(name)
    if namespace is None or namespace not in offered:
        return False
    functions = BUILTIN_TOOLS[namespace].functions
    return not functions or name.removeprefix(f"{namespace}.") in {f["name"] for f in functions}


def unavailable_tool_result(name: str) -> str:
    """The result of a call to a tool this chat does not offer: a short error the model reads and
    works around (the reference tools answer a bad call the same way, as text, not as a failure)."""
    return f"Error: the tool {name} is not available in this chat. Continue without it."
