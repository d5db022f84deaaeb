"""What a remote turn asks the server: `RemoteSettings` (the choices a person makes for an
answer) and the JSON bodies of the two APIs, built from a chat-completions history.

The history is the one `Answer.message()` keeps: an assistant message may carry its reasoning
(`reasoning`); it is sent back only with the tool calls it led to, as gpt-oss expects (its
earlier thoughts are dropped once it has answered), under the name vLLM, Hearth's own server
and Ollama read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import InvalidInput

REASONING_EFFORTS = ("low", "medium", "high")


@dataclass(frozen=True)
class RemoteSettings:
    """How the server should answer. `None` leaves a choice to the server's own default."""

    max_tokens: int | None = None  # None: as long as the server allows (what is left of its context)
    reasoning_effort: str = "medium"
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    stop: tuple[str, ...] = ()
    # The final answer as JSON valid against `json_schema` (the schema, named `schema_name`),
    # as OpenAI's strict structured outputs ask it; every server named above takes it. None: free text.
    json_schema: Mapping[str, Any] | None = None
    schema_name: str = "response"

    def __post_init__(self) -> None:
        if self.max_tokens is not None and self.max_tokens < 1:
            raise InvalidInput(f"The answer length limit must be at least 1 token, not {self.max_tokens}.")
        if self.reasoning_effort not in REASONING_EFFORTS:
            raise InvalidInput(f"The reasoning effort is low, medium or high, not {self.reasoning_effort!r}.")
        if self.temperature is not None and not 0 <= self.temperature <= 2:
            raise InvalidInput(f"The temperature must be between 0 and 2, not {self.temperature}.")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise InvalidInput(f"top-p must be above 0 and at most 1, not {self.top_p}.")
        if len(self.stop) > 4 or any(not s for s in self.stop):
            raise InvalidInput("At most 4 stop texts, none of them empty.")


def chat_body(model: str, messages: Sequence[Mapping[str, Any]], settings: RemoteSettings,
              tools: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """A streamed `/v1/chat/completions` request."""
    body: dict[str, Any] = {
        "model": model,
        "messages": chat_messages(messages),
        "stream": True,
        "stream_options": {"include_usage": True},
        "reasoning_effort": settings.reasoning_effort,
    }
    if settings.max_tokens is not None:
        body["max_tokens"] = settings.max_tokens
    body.update(_sampling(settings))
    if settings.stop:
        body["stop"] = list(settings.stop)
    if settings.json_schema is not None:
        body["response_format"] = {"type": "json_schema", "json_schema": {
            "name": settings.schema_name, "schema": dict(settings.json_schema), "strict": True}}
    if tools:
        body["tools"] = [dict(tool) for tool in tools]
    return body


def chat_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The history as sent: reasoning kept only on the calls of the turn still going on (after
    the last user message), where the model needs to remember why it called."""
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    sent = []
    for i, message in enumerate(messages):
        message = dict(message)
        reasoning = message.pop("reasoning", None) or message.pop("reasoning_content", None)
        message.pop("reasoning_content", None)
        if reasoning and message.get("role") == "assistant" and message.get("tool_calls") and i > last_user:
            message["reasoning"] = reasoning
        sent.append(message)
    return sent


def responses_body(model: str, messages: Sequence[Mapping[str, Any]], settings: RemoteSettings,
                   tools: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """A streamed `/v1/responses` request (the server keeps nothing: the whole history is sent)."""
    if settings.stop:
        raise InvalidInput("Stop texts cannot be used with the Responses API; use the chat API instead.")
    body: dict[str, Any] = {
        "model": model,
        "input": responses_input(messages),
        "stream": True,
        "store": False,
        "reasoning": {"effort": settings.reasoning_effort},
    }
    if settings.max_tokens is not None:
        body["max_output_tokens"] = settings.max_tokens
    body.update(_sampling(settings))
    body.pop("seed", None)  # not a field of this API: a strict server would refuse the request
    if settings.json_schema is not None:
        body["text"] = {"format": {"type": "json_schema", "name": settings.schema_name,
                                   "schema": dict(settings.json_schema), "strict": True}}
    if tools:
        body["tools"] = [_responses_tool(tool) for tool in tools]
    return body


def responses_input(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "tool":
            items.append({"type": "function_call_output", "call_id": message.get("tool_call_id"),
                          "output": _text(message.get("content"))})
            continue
        if message.get("content"):
            items.append({"type": "message", "role": role, "content": _text(message["content"])})
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            items.append({"type": "function_call", "call_id": call.get("id"), "name": function.get("name"),
                          "arguments": function.get("arguments") or "{}"})
    return items


def _responses_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    """A chat-completions function tool in the Responses API's flatter shape."""
    if tool.get("type") == "function" and isinstance(tool.get("function"), Mapping):
        return {"type": "function", **tool["function"]}
    return dict(tool)


def _sampling(settings: RemoteSettings) -> dict[str, Any]:
    chosen = {"temperature": settings.temperature, "top_p": settings.top_p, "seed": settings.seed}
    return {name: value for name, value in chosen.items() if value is not None}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # text parts
        return "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
    return "" if content is None else str(content)
