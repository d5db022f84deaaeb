"""The turn loop for gpt-oss's built-in tools: the model steps, and while a step ends with a
built-in call the turn runs it, gives the model the result and lets it step again, to its answer.

    tools = BuiltinTools(("browser", "python"), library=library)    # one per chat; tools made on first use
    for event in tool_turns(step, messages, tools, cancel=stop): ...
    tools.close()                                                   # with the chat

`step(messages)` is one generation over the chat so far: `core.chat.generate.generate` with
`builtin_tools=tools.offered` (the terminal, the window), or the server's own prompt and stream.

What the reader gets: every step's events, then for each built-in call `ToolRunning` and
`ToolResult`; each step's `Finished` is held back, and one `Finished` for the whole answer ends it
(tokens generated summed over the steps, the last prompt's size, the first step's time to first
token), so a reader that stops at `Finished` reads the whole answer.

What `messages` gains, in the chat-completions form render_chat reads: per built-in call the
step's assistant message (its reasoning, any preamble, and a `tool_calls` entry named
"browser.search" or "python", arguments the JSON text or the code) and a `tool` message with that
name and the result; then the answer (or a function call, which goes back to the caller). A step
that fails before anything of the answer streamed raises; a later one ends the answer with
`Finished(reason="error")`, keeping what came before.

A call never fails the turn: a built-in the chat does not offer (turned off, refused by the
policy, or made up, `browser.fetch`) gets `unavailable_tool_result`; past `max_calls` a call gets
a sentence telling the model to answer with what it has, and a call after that ends the answer
with a notice. Stop (`cancel`) stops a running tool (python: KeyboardInterrupt, then a kill) and
the turn.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Generator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.chat.answer import Answer, Call
from core.chat.builtin_tools import (
    builtin_namespace,
    is_builtin,
    is_offered,
    offered_builtins,
    unavailable_tool_result,
)
from core.chat.events import Event, Finished, FinishReason, Notice, ToolResult, ToolRunning, TurnEnded
from core.errors import HearthError

if TYPE_CHECKING:
    from core.chat.browser_tool import BrowserTool
    from core.docs import Library
    from core.sandbox import PythonTool, SandboxLimits

MAX_BUILTIN_CALLS = 8  # built-in calls one answer may make; the reference agent loops allow about as many
_STOP_POLL_S = 0.05  # how often a running tool looks for a Stop

Step = Callable[[list[dict[str, Any]]], Iterator[Event]]


class BuiltinTools:
    """The built-in tools one chat offers (`offered`, checked, in harmony's order) and the tool
    objects behind them: one `BrowserTool` over `library` and one `PythonTool` (a sandboxed
    worker whose variables live as long as the chat), each made on its first call. `stop()` and
    `close()` may come from any thread."""

    def __init__(self, offered: Sequence[str] = (), *, library: Library | None = None, scratch: Path | None = None,
                 python_limits: SandboxLimits | None = None, max_calls: int = MAX_BUILTIN_CALLS):
        self.offered = offered_builtins(offered)
        self.max_calls = max_calls
        self._library = library
        self._scratch = scratch
        self._python_limits = python_limits
        self._browser: BrowserTool | None = None
        self._python: PythonTool | None = None
        self._lock = threading.Lock()
        self._closed = False

    def new_chat(self) -> BuiltinTools:
        """The same tools for another chat (another API request): nothing of this one's state."""
        return BuiltinTools(self.offered, library=self._library, scratch=None, python_limits=self._python_limits,
                            max_calls=self.max_calls)

    @property
    def browser(self) -> BrowserTool | None:
        """The chat's browser once it has run, for its citations (`citations(answer)`)."""
        return self._browser

    def run(self, name: str, arguments: str) -> str:
        """The text the model reads back for its call `name` ("browser.open", "python") with
        `arguments` (the JSON text, or the code). Never raises: a failure is said in the text."""
        if not is_offered(name, self.offered):
            return unavailable_tool_result(name)
        try:
            if builtin_namespace(name) == "python":
                return self._python_tool().call(arguments)
            return self._browser_tool().call(name, arguments)
        except HearthError as error:  # the library could not be opened, the chat was closed ...
            return f"Error: {error}"
        except Exception as error:  # a tool's bug must not end the chat; the model reads what happened
            return f"Error: the tool failed ({type(error).__name__}: {error})."

    def stop(self) -> None:
        """Stops the running Python call, if any (the browser's calls are quick and end by themselves)."""
        with self._lock:
            python = self._python
        if python is not None:
            python.stop()

    def close(self) -> None:
        """Ends the chat's tools: the Python worker and its temporary folder go."""
        with self._lock:
            self._closed = True
            python, self._python, self._browser = self._python, None, None
        if python is not None:
            python.close()

    def reset(self) -> None:
        """A new chat: the Python variables and the browser's pages are forgotten."""
        self.close()
        with self._lock:
            self._closed = False

    def _browser_tool(self) -> BrowserTool:
        with self._lock:
            self._check_open()
            if self._browser is None:
                from core.chat.browser_tool import BrowserTool
                from core.docs import Library

                self._library = self._library if self._library is not None else Library()
                self._browser = BrowserTool(self._library)
            return self._browser

    def _python_tool(self) -> PythonTool:
        with self._lock:
            self._check_open()
            if self._python is None:
                from core.sandbox import PythonTool  # the worker itself starts on the first call

                self._python = PythonTool(scratch=self._scratch, limits=self._python_limits)
            return self._python

    def _check_open(self) -> None:
        if self._closed:
            raise HearthError("This chat was closed; its tools are gone.")


def tool_turns(step: Step, messages: list[dict[str, Any]], tools: BuiltinTools, *,
               cancel: threading.Event | None = None, function_names: Collection[str] = ()) -> Iterator[Event]:
    """One answer of the model to `messages`, its built-in calls run on the way (see the module's
    docstring). `function_names`: the function tools offered, so a call `python` is the function
    of that name where the built-in python is not offered, as render_chat reads it."""
    cancel = cancel or threading.Event()
    finishes: list[Finished] = []
    calls = 0
    while True:
        events: list[Event] = []
        finished: Finished | None = None
        try:
            for event in step(messages):
                if isinstance(event, Finished):
                    finished = event
                else:
                    events.append(event)
                    yield event
        except HearthError as failure:
            if not finishes:
                raise  # nothing of the answer streamed: the caller says it, and the message is not history
            finished = _failed(str(failure))
        finally:  # also when the reader stops reading: what was written is history
            step_answer = Answer.of(events)
            reply = step_answer.message()
            if reply["content"] or reply.get("tool_calls"):
                messages.append(reply)
        finishes.append(finished or _failed("The model stopped without finishing its answer."))
        call = step_answer.calls[-1] if step_answer.calls else None
        ended_with_call = any(isinstance(e, TurnEnded) and e.how == "call" for e in events)
        if (call is None or not ended_with_call or not answered_in_turn(call.name, tools.offered, function_names)
                or finishes[-1].reason != "stop"):
            yield _whole(finishes)
            return
        calls += 1
        if not (yield from _answer_call(call, calls, tools, messages, cancel)):
            yield _whole(finishes, "cancelled" if cancel.is_set() else None)
            return


def _answer_call(call: Call, number: int, tools: BuiltinTools, messages: list[dict[str, Any]],
                 cancel: threading.Event) -> Generator[Event, None, bool]:
    """Answers the answer's `number`-th built-in call: runs it (between `ToolRunning` and
    `ToolResult`) or says why not; its result joins `messages`. False when the answer ends here."""
    if cancel.is_set() or number > tools.max_calls + 1:
        stopped = cancel.is_set()
        messages.append(_tool_message(call, "Error: not run: the answer was stopped." if stopped else
                                      "Error: not run: the answer was ended after too many tool calls."))
        if not stopped:
            yield Notice(f"The model kept calling tools after its limit of {tools.max_calls} calls for one "
                         "answer; the answer ends here.")
        return False
    if number > tools.max_calls:
        result = ToolResult(call.name, f"Error: not run: this answer has used its {tools.max_calls} tool calls. "
                                       "Answer now with what you have.", ran=False)
    elif not is_offered(call.name, tools.offered):
        result = ToolResult(call.name, unavailable_tool_result(call.name), ran=False)
    else:
        try:
            yield ToolRunning(call.name, call.arguments)
        except GeneratorExit:  # the reader left before the tool ran: the call still gets an answer
            messages.append(_tool_message(call, "Error: not run: the answer was stopped."))
            raise
        started = time.monotonic()
        result = ToolResult(call.name, _run_stoppably(tools, call, cancel), time.monotonic() - started)
    messages.append(_tool_message(call, result.text))
    yield result
    return not cancel.is_set()


def _run_stoppably(tools: BuiltinTools, call: Call, cancel: threading.Event) -> str:
    """`tools.run`, with a watcher that turns a Stop into `tools.stop()` while it runs."""
    done = threading.Event()

    def watch() -> None:
        while not done.wait(_STOP_POLL_S):
            if cancel.is_set():
                tools.stop()
                return

    watcher = threading.Thread(target=watch, name="tool-stop-watch", daemon=True)
    watcher.start()
    try:
        return tools.run(call.name, call.arguments)
    finally:
        done.set()
        watcher.join()


def answered_in_turn(recipient: str, offered: Sequence[str], function_names: Collection[str] = ()) -> bool:
    """Whether the turn loop answers a call to `recipient` ("browser.search", "python",
    "functions.x") itself: a built-in call, unless it names a function tool and that built-in is
    not offered (a client's own function called `python`), as render_chat tells them apart."""
    if not is_builtin(recipient):
        return False
    return not (recipient in function_names and builtin_namespace(recipient) not in offered)


def _tool_message(call: Call, text: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": text}


def _failed(sentence: str) -> Finished:
    return Finished("error", 0, 0, 0, 0.0, 0.0, 0.0, error=sentence)


def _whole(steps: list[Finished], reason: FinishReason | None = None) -> Finished:
    """One `Finished` for an answer made in `steps`."""
    last = steps[-1]
    if len(steps) == 1 and reason is None:
        return last
    computed = sum(f.prompt_tokens - f.reused_tokens for f in steps)
    prefill_seconds = sum((f.prompt_tokens - f.reused_tokens) / f.prompt_tokens_per_second
                          for f in steps if f.prompt_tokens_per_second > 0)
    decoded = sum(f.generated_tokens - 1 for f in steps if f.decode_tokens_per_second > 0)
    decode_seconds = sum((f.generated_tokens - 1) / f.decode_tokens_per_second
                         for f in steps if f.decode_tokens_per_second > 0)
    prompt = next((f for f in reversed(steps) if f.prompt_tokens), last)  # a failed step counted nothing
    return Finished(
        reason=reason or last.reason,
        prompt_tokens=prompt.prompt_tokens,
        reused_tokens=prompt.reused_tokens,
        generated_tokens=sum(f.generated_tokens for f in steps),
        prompt_tokens_per_second=computed / prefill_seconds if prefill_seconds > 0 else 0.0,
        decode_tokens_per_second=decoded / decode_seconds if decode_seconds > 0 else 0.0,
        time_to_first_token=steps[0].time_to_first_token,
        error=last.error,
    )
