"""The built-in tool calls of an answer as the window shows and keeps them: one `ToolStep` per
call (its name, what the model wrote, what the tool answered), a title in plain words ("Searched
your documents for “boiler”", "Ran Python"), and the list kept in the answer's `stats["tools"]`
in the history, so a chat opened again shows them, and an answer's other versions keep their own.

Steps are built from the answer's pieces (core/chat/answer.py): "call" and "arguments" while the
model writes the call, "tool_running" and "tool_result" from the turn loop that runs it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

State = Literal["writing", "running", "done", "stopped"]
MAX_KEPT_OUTPUT = 20_000  # characters of a result kept in the history; the model read it all
_VIEW_HEADER = re.compile(r"^\[\d+\] (?P<title>.*?)(?: \((?P<url>[^()]*)\))?$")


@dataclass
class ToolStep:
    name: str  # "browser.search", "browser.open", "browser.find", "python"
    arguments: str = ""  # the JSON the model wrote, or the code
    output: str = ""  # what the tool answered, as the model read it
    state: State = "writing"
    seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        kept = asdict(self)
        if len(self.output) > MAX_KEPT_OUTPUT:
            kept["output"] = self.output[:MAX_KEPT_OUTPUT] + "\n…"
        return kept

    @classmethod
    def from_dict(cls, data: Any) -> ToolStep | None:
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return None
        state = data.get("state") if data.get("state") in ("writing", "running", "done", "stopped") else "done"
        seconds = data.get("seconds")
        return cls(data["name"], str(data.get("arguments", "")), str(data.get("output", "")), state,
                   float(seconds) if isinstance(seconds, int | float) else None)


class AnswerSteps:
    """The steps of the answer being written, from its pieces (core/chat/answer.py)."""

    def __init__(self):
        self._steps: dict[int, ToolStep] = {}  # by the call's index in `Answer.calls`
        self._calls: list = []
        self._stopping = False  # the person pressed Stop: a call running now ends stopped

    @property
    def steps(self) -> list[ToolStep]:
        return list(self._steps.values())

    def add(self, piece, calls: list) -> bool:
        """A call's piece: written ("call", "arguments"), run ("tool_running"), answered
        ("tool_result"). `calls`: the answer's `calls`. Returns whether a step changed: only
        built-in calls are steps (a function call is the caller's)."""
        self._calls = calls
        call = calls[piece.call]
        if not call.builtin:
            return False
        step = self._steps.setdefault(piece.call, ToolStep(call.name))
        step.arguments = call.arguments
        if piece.kind == "tool_running":
            step.state = "running"
        elif piece.kind == "tool_result":
            stopped = self._stopping and step.state == "running"
            step.output, step.state = piece.text, "stopped" if stopped else "done"
        return True

    def stop(self) -> None:
        """Stop was pressed: the call running now (its result still to come) was stopped."""
        self._stopping = True

    def end(self, reason: str) -> None:
        """The answer is over (`reason`, as `Finished` says it): a call left unanswered was stopped,
        or never ran."""
        for index, step in self._steps.items():
            if index < len(self._calls):
                step.arguments = self._calls[index].arguments  # complete once the call is
            if step.state in ("writing", "running"):
                step.state = "stopped" if reason == "cancelled" else "done"

    def as_stats(self) -> list[dict[str, Any]]:
        return [step.to_dict() for step in self._steps.values()]


def steps_of(stats: dict) -> list[ToolStep]:
    """The steps kept in an answer's stats (none for answers from before tools, or unreadable)."""
    kept = stats.get("tools") if isinstance(stats, dict) else None
    return [s for s in (ToolStep.from_dict(d) for d in kept) if s is not None] if isinstance(kept, list) else []


def _arguments(step: ToolStep) -> dict[str, Any]:
    try:
        parsed = json.loads(step.arguments) if step.arguments.strip() else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _quoted(text: Any, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return f"“{text if len(text) <= limit else text[:limit - 1] + '…'}”"


def opened_title(output: str) -> str | None:
    """The document's title in a browser view's first line: `[3] Title (file:///...)`."""
    first = output.split("\n", 1)[0]
    match = _VIEW_HEADER.match(first)
    return match["title"] if match and match["title"] else None


def step_title(step: ToolStep) -> str:
    """What the step did, or does, in plain words."""
    if step.name == "python":
        return {"writing": "Writing Python…", "running": "Running Python…", "stopped": "Python was stopped"}.get(
            step.state, "Ran Python")
    title = _browser_title(step, busy=step.state in ("writing", "running"))
    return f"{title} (stopped)" if step.state == "stopped" else title


def _browser_title(step: ToolStep, busy: bool) -> str:
    args = _arguments(step)
    if step.name == "browser.search":
        query = f" for {_quoted(args['query'])}" if args.get("query") else ""
        return f"Searching your documents{query}…" if busy else f"Searched your documents{query}"
    if step.name == "browser.open":
        if busy:
            return "Opening a document…"
        title = opened_title(step.output)
        return f"Read {_quoted(title)}" if title else "Opened a document"
    if step.name == "browser.find":
        pattern = f" {_quoted(args['pattern'])}" if args.get("pattern") else ""
        return f"Looking for{pattern} in the document…" if busy else f"Looked for{pattern} in the document"
    return f"Using {step.name}…" if busy else f"Used {step.name}"


def step_input(step: ToolStep) -> str:
    """What to show of the call itself: the code for Python, the arguments otherwise."""
    if step.name == "python":
        return step.arguments
    args = _arguments(step)
    return json.dumps(args, ensure_ascii=False, indent=1) if args else step.arguments
