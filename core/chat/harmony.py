"""The harmony chat format: a chat-completions conversation -> gpt-oss prompt tokens.

Owns: the system message (identity, knowledge cutoff, date, reasoning effort, built-in tools,
channels), the developer message (instructions and function tools), history rendering (earlier
turns' reasoning and built-in calls dropped, their answers kept, function calls and results), and
the turn arithmetic used when a conversation outgrows the context. Parsing the model's output
lives in `harmony_parser.py`; tool schemas in `harmony_tools.py`; the built-in tools' text in
`builtin_tools.py`.

Every piece of text is encoded on its own and the special tokens are inserted as ids, the way
the reference renderer does it, so user text can never produce a special token.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.chat.builtin_tools import (
    CALL_CHANNEL,
    CALL_CONTENT_TYPE,
    builtin_namespace,
    builtin_tools_section,
    offered_builtins,
)
from core.chat.harmony_tools import function_tools, tools_section
from core.chat.structured import JsonFormat, response_formats_section
from core.chat.tokenizer import Tokenizer
from core.errors import InvalidInput

MODEL_IDENTITY = "You are ChatGPT, a large language model trained by OpenAI."
KNOWLEDGE_CUTOFF = "2024-06"
REASONING_EFFORTS = ("low", "medium", "high")
CHANNELS = ("analysis", "commentary", "final")
ROLES = ("system", "developer", "user", "assistant", "tool")


@dataclass(frozen=True)
class HarmonyMessage:
    """One harmony message: `<|start|>{author}[ to={recipient}][<|channel|>{channel}]
    [ {content_type}]<|message|>{content}<|end|>` (or `<|call|>` for a tool call)."""

    author: str
    content: str
    channel: str | None = None
    recipient: str | None = None
    content_type: str | None = None

    @property
    def is_tool_call(self) -> bool:
        return self.author == "assistant" and self.recipient is not None


def render_chat(
    messages: Sequence[Mapping[str, Any]],
    tokenizer: Tokenizer,
    *,
    reasoning_effort: str = "medium",
    tools: Sequence[Mapping[str, Any]] | None = None,
    current_date: str | datetime.date | None = None,
    response_format: JsonFormat | None = None,
    builtin_tools: Sequence[str] = (),
) -> list[int]:
    """Prompt tokens for the assistant's next turn, ending with `<|start|>assistant`.

    `messages` follow the chat-completions convention: roles system/developer (both become the
    developer message's `# Instructions`), user, assistant (`content`, optional `reasoning` (or
    `reasoning_content` / `thinking`) and `tool_calls`) and tool (`content` with `tool_call_id` or `name`). `tools` are
    chat-completions function tools; `response_format` a JSON answer format the developer message
    describes to the model (its `# Response Formats` section); `builtin_tools` the built-in tools
    the system message offers ("browser", "python").

    A tool call named `browser.search`, `browser.open`, `browser.find` or `python` is a built-in call
    (on the analysis channel, its arguments the JSON text or the code) whether or not the tool is
    offered, so a call answered with `unavailable_tool_result` renders too; only a function tool of
    the same name (`python`), with the built-in not offered, makes it a function call.
    """
    tokens: list[int] = []
    for message in to_harmony(messages, reasoning_effort=reasoning_effort, tools=tools,
                              current_date=current_date, response_format=response_format,
                              builtin_tools=builtin_tools):
        tokens += render_message(message, tokenizer)
    return [*tokens, tokenizer.start, *tokenizer.encode("assistant")]


def to_harmony(
    messages: Sequence[Mapping[str, Any]],
    *,
    reasoning_effort: str = "medium",
    tools: Sequence[Mapping[str, Any]] | None = None,
    current_date: str | datetime.date | None = None,
    response_format: JsonFormat | None = None,
    builtin_tools: Sequence[str] = (),
) -> list[HarmonyMessage]:
    """The harmony messages a chat becomes, system and developer messages first."""
    if reasoning_effort not in REASONING_EFFORTS:
        raise InvalidInput(f"Reasoning effort must be low, medium or high, not {reasoning_effort!r}.")
    functions = function_tools(tools)
    offered = offered_builtins(builtin_tools)
    for message in messages:
        if message.get("role") not in ROLES:
            role = message.get("role")
            raise InvalidInput(f"A message has the role {role!r}; expected one of {', '.join(ROLES)}.")
    instructions = [_text(m) for m in messages if m["role"] in ("system", "developer")]
    result = [HarmonyMessage("system", system_text(reasoning_effort, current_date, bool(functions), offered))]
    developer = developer_text("\n\n".join(i for i in instructions if i), functions, response_format)
    if developer:
        result.append(HarmonyMessage("developer", developer))
    kinds = _CallKinds({f["name"] for f in functions}, offered)
    result += _history([m for m in messages if m["role"] not in ("system", "developer")], kinds)
    return result


def render_message(message: HarmonyMessage, tokenizer: Tokenizer) -> list[int]:
    tokens = [tokenizer.start, *tokenizer.encode(message.author)]
    if message.recipient is not None:
        tokens += tokenizer.encode(f" to={message.recipient}")
    if message.channel is not None:
        tokens += [tokenizer.channel, *tokenizer.encode(message.channel)]
    if message.content_type is not None:
        if message.content_type.startswith("<|constrain|>"):
            rest = message.content_type.removeprefix("<|constrain|>")
            tokens += [*tokenizer.encode(" "), tokenizer.constrain, *tokenizer.encode(rest)]
        else:
            tokens += tokenizer.encode(f" {message.content_type}")
    tokens += [tokenizer.message, *tokenizer.encode(message.content)]
    return [*tokens, tokenizer.call if message.is_tool_call else tokenizer.end]


def system_text(reasoning_effort: str, current_date: str | datetime.date | None, has_functions: bool,
                builtin_tools: Sequence[str] = ()) -> str:
    date = current_date or datetime.date.today()
    channels = f"# Valid channels: {', '.join(CHANNELS)}. Channel must be included for every message."
    if has_functions:
        channels += "\nCalls to these tools must go to the commentary channel: 'functions'."
    sections = [f"{MODEL_IDENTITY}\nKnowledge cutoff: {KNOWLEDGE_CUTOFF}\nCurrent date: {date}",
                f"Reasoning: {reasoning_effort}", builtin_tools_section(builtin_tools), channels]
    return "\n\n".join(s for s in sections if s)


def developer_text(instructions: str, functions: list[dict[str, Any]],
                   response_format: JsonFormat | None = None) -> str:
    sections = ["# Instructions", instructions] if instructions else []
    if functions:
        sections.append(tools_section(functions))
    if response_format is not None:
        sections.append(response_formats_section(response_format))
    return "\n\n".join(sections)


def drop_oldest_turn(messages: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]] | None:
    """`messages` without its oldest turn (a user message and every message up to the next
    one); system and developer messages stay. None when only the latest turn is left."""
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    if len(users) < 2:
        return None
    first, second = users[0], users[1]
    return [m for i, m in enumerate(messages)
            if not (first <= i < second) or m.get("role") in ("system", "developer")]


@dataclass(frozen=True)
class _CallKinds:
    """Tells a built-in call from a function call by its name."""

    functions: set[str]
    offered: tuple[str, ...]

    def builtin(self, name: str) -> bool:
        namespace = builtin_namespace(name)
        return namespace is not None and (namespace in self.offered or name not in self.functions)


def _history(messages: list[Mapping[str, Any]], kinds: _CallKinds) -> list[HarmonyMessage]:
    # An assistant turn is finished once a later assistant message gives a final answer. Its
    # analysis channel is dropped: the reasoning, and the built-in calls and their results, which
    # the model makes on analysis (the model was trained on prompts without them). A turn in
    # progress keeps all of it. Function calls, on commentary, stay.
    final_at = [i for i, m in enumerate(messages) if m["role"] == "assistant" and _is_final(m)]
    last_final = final_at[-1] if final_at else -1
    call_names: dict[str, str] = {}
    result = []
    for i, message in enumerate(messages):
        role, in_progress = message["role"], i > last_final
        if role == "user":
            result.append(HarmonyMessage("user", _text(message)))
        elif role == "assistant":
            reasoning = _reasoning(message)
            if reasoning and in_progress:
                result.append(HarmonyMessage("assistant", reasoning, channel="analysis"))
            calls = message.get("tool_calls") or []
            content = _text(message)
            if content:
                # Text beside tool calls is a preamble, which harmony puts on commentary.
                channel = "commentary" if calls else "final"
                result.append(HarmonyMessage("assistant", content, channel=channel))
            for call in calls:
                name, arguments = _tool_call(call)
                if call.get("id"):
                    call_names[call["id"]] = name
                if not kinds.builtin(name):
                    result.append(HarmonyMessage("assistant", arguments, channel="commentary",
                                                 recipient=f"functions.{name}", content_type="<|constrain|>json"))
                elif in_progress:
                    result.append(HarmonyMessage("assistant", arguments, channel=CALL_CHANNEL,
                                                 recipient=name, content_type=CALL_CONTENT_TYPE))
        else:  # tool
            name = message.get("name") or call_names.get(message.get("tool_call_id", ""))
            if not name:
                raise InvalidInput("A tool result does not say which tool call it answers "
                                   "(it has no name or tool_call_id).")
            if not kinds.builtin(name):
                result.append(HarmonyMessage(f"functions.{name}", _text(message), channel="commentary",
                                             recipient="assistant"))
            elif in_progress:
                result.append(HarmonyMessage(name, _text(message), channel=CALL_CHANNEL, recipient="assistant"))
    return result


def _reasoning(message: Mapping[str, Any]) -> str:
    # "reasoning_content" is what OpenAI-compatible servers send, "thinking" what the Hugging Face
    # chat template reads; all three mean the analysis channel.
    for key in ("reasoning", "reasoning_content", "thinking"):
        if isinstance(message.get(key), str) and message[key]:
            return message[key]
    return ""


def _is_final(message: Mapping[str, Any]) -> bool:
    return bool(_text(message)) and not message.get("tool_calls")


def _tool_call(call: Mapping[str, Any]) -> tuple[str, str]:
    function = call.get("function", call)
    name, arguments = function.get("name"), function.get("arguments", "{}")
    if not isinstance(name, str) or not name:
        raise InvalidInput("An assistant tool call has no function name.")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    return name, arguments


def _text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):  # a tool result given as a JSON object
        return json.dumps(content, ensure_ascii=False)
    parts = []
    for part in content:
        if not isinstance(part, Mapping) or part.get("type") != "text":
            raise InvalidInput("Only text can be sent to gpt-oss; a message holds another kind of content.")
        parts.append(part["text"])
    return "".join(parts)
