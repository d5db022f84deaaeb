"""The OpenAI side of the local API server: checking `/v1/chat/completions` and `/v1/responses`
requests, and turning one turn's events into their answers, whole or as stream chunks.

No HTTP and no threads here (`core.server.http` owns those): every function takes plain JSON
values and returns plain JSON values, or raises `ApiError` with the HTTP status, the OpenAI
error `type`/`code`/`param`, and a sentence a developer understands.

The model's reasoning (harmony's analysis channel) goes to `reasoning_content` and never into
`content`; preambles (commentary without a recipient) are shown text, so they join `content`;
messages addressed to a function tool become `tool_calls`. Calls to the model's built-in tools
never reach these answers: the server runs them itself (core/server/tool_steps.py).
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from core.chat.answer import Answer, Piece
from core.chat.events import Event
from core.chat.generate import GenerationSettings
from core.chat.harmony import REASONING_EFFORTS, ROLES
from core.chat.harmony_tools import function_tools
from core.chat.tokenizer import N_VOCAB
from core.engine.sampling import SamplingParams
from core.errors import InvalidInput
from core.server.answer_shape import (
    answer_shape,
    chat_response_format,
    refuse_other_constraints,
    responses_text_format,
)
from core.server.api_errors import ApiError, bad_request
from core.server.request_checks import (
    check_accepted_fields,
    check_message,
    check_seed,
    check_tool,
    check_unsupported_chat_fields,
)
from core.server.stop_sequences import MAX_STOPS

TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_LOGIT_BIASES = 300  # as OpenAI limits them


@dataclass(frozen=True)
class TurnRequest:
    """What one request asks of the model, in the core's terms."""

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None
    # The core's one settings type (sampling, reasoning effort and budget); its max_new_tokens is
    # set from `max_tokens` once the prompt's length is known.
    settings: GenerationSettings
    max_tokens: int | None  # None: as many as the context leaves
    stream: bool = False
    include_usage: bool = False
    stop: tuple[str, ...] = ()  # the answer ends where its text first contains one of these


# -- requests ---------------------------------------------------------------------------
def chat_request(body: Any, model_id: str) -> TurnRequest:
    """A `/v1/chat/completions` body, checked."""
    body = _object(body)
    _check_model(body, model_id)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' must be a non-empty list of messages.", "messages")
    checked = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise bad_request(f"messages[{i}] must be an object with a 'role'.", f"messages[{i}]")
        if message.get("role") not in ROLES:
            raise bad_request(f"messages[{i}] has the role {message.get('role')!r}; expected one of "
                              f"{', '.join(ROLES)}.", f"messages[{i}].role")
        check_message(message, i)
        message = dict(message)
        # Reasoning sent back with an earlier assistant turn, under either common name.
        reasoning = message.pop("reasoning_content", None) or message.get("reasoning")
        if reasoning:
            message["reasoning"] = reasoning
        checked.append(message)
    for name in ("audio", "prediction"):
        if body.get(name):
            raise bad_request(f"'{name}' is not supported by this server.", name)
    check_unsupported_chat_fields(body)
    check_accepted_fields(body)
    if body.get("n", 1) != 1:
        raise bad_request("'n' must be 1: this server writes one answer per request.", "n")
    tools = _tools(body.get("tools"), body.get("tool_choice"))
    refuse_other_constraints(body)
    structure = answer_shape(chat_response_format(body.get("response_format")), tools, body.get("tool_choice"),
                             "response_format")
    logprobs = _flag(body, "logprobs")
    stream_options = body.get("stream_options") or {}
    if not isinstance(stream_options, dict):
        raise bad_request("'stream_options' must be an object.", "stream_options")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    reasoning = _reasoning(body)
    effort = _effort(body.get("reasoning_effort", reasoning.get("effort")), "reasoning_effort")
    settings = GenerationSettings(_sampling(body), reasoning_effort=effort,
                                  reasoning_budget=_positive(reasoning.get("max_tokens"), "reasoning.max_tokens"),
                                  structure=structure, logprobs=(body.get("top_logprobs") or 0) if logprobs else None,
                                  logit_bias=_logit_bias(body.get("logit_bias")))
    return TurnRequest(
        messages=checked, tools=tools, settings=settings,
        max_tokens=_positive(max_tokens, "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"),
        stream=_flag(body, "stream"), include_usage=bool(stream_options.get("include_usage")),
        stop=_stops(body.get("stop")),
    )


def responses_request(body: Any, model_id: str) -> TurnRequest:
    """A `/v1/responses` body (text, function tools, reasoning effort), checked."""
    body = _object(body)
    _check_model(body, model_id)
    for name in ("previous_response_id", "conversation", "prompt", "background"):
        if body.get(name):
            raise bad_request(f"'{name}' is not supported: this server keeps no state between requests.", name)
    messages: list[dict[str, Any]] = []
    if body.get("instructions"):
        if not isinstance(body["instructions"], str):
            raise bad_request("'instructions' must be text.", "instructions")
        messages.append({"role": "developer", "content": body["instructions"]})
    given = body.get("input")
    if isinstance(given, str):
        messages.append({"role": "user", "content": given})
    elif isinstance(given, list) and given:
        messages += [_input_item(item, i) for i, item in enumerate(given)]
    else:
        raise bad_request("'input' must be text or a non-empty list of input items.", "input")
    reasoning = _reasoning(body)
    if body.get("text") is not None and not isinstance(body["text"], dict):
        raise bad_request("'text' must be an object such as {\"format\": {\"type\": \"text\"}}.", "text")
    check_accepted_fields(body)
    tools = _tools(body.get("tools"), body.get("tool_choice"))
    structure = answer_shape(responses_text_format((body.get("text") or {}).get("format")), tools,
                             body.get("tool_choice"), "text.format")
    effort = _effort(reasoning.get("effort"), "reasoning.effort")
    settings = GenerationSettings(_sampling(body), reasoning_effort=effort,
                                  reasoning_budget=_positive(reasoning.get("max_tokens"), "reasoning.max_tokens"),
                                  structure=structure)
    return TurnRequest(
        messages=messages, tools=tools, settings=settings,
        max_tokens=_positive(body.get("max_output_tokens"), "max_output_tokens"), stream=_flag(body, "stream"),
    )


def _input_item(item: Any, i: int) -> dict[str, Any]:
    where = f"input[{i}]"
    if not isinstance(item, dict):
        raise bad_request(f"{where} must be an object.", where)
    kind = item.get("type", "message")
    if kind == "message":
        if item.get("role") not in ("user", "assistant", "system", "developer"):
            raise bad_request(f"{where} has the role {item.get('role')!r}.", f"{where}.role")
        content = item.get("content")
        if isinstance(content, list):
            texts = []
            for n, part in enumerate(content):
                if not isinstance(part, dict) or part.get("type") not in ("input_text", "output_text", "text"):
                    raise bad_request(f"{where} holds content other than text; gpt-oss reads text only.", where)
                if not isinstance(part.get("text"), str):
                    raise bad_request(f"{where}.content[{n}].text must be text.", f"{where}.content[{n}].text")
                texts.append(part["text"])
            content = "".join(texts)
        if not isinstance(content, str):
            raise bad_request(f"{where}.content must be text or a list of text parts.", f"{where}.content")
        return {"role": item["role"], "content": content}
    if kind == "function_call":
        name, arguments = item.get("name"), item.get("arguments", "{}")
        if not isinstance(name, str) or not isinstance(arguments, str):
            raise bad_request(f"{where} must have a 'name' and 'arguments' text.", where)
        call = {"id": item.get("call_id") or name, "type": "function",
                "function": {"name": name, "arguments": arguments}}
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    if kind == "function_call_output":
        output = item.get("output")
        if not isinstance(item.get("call_id"), str) or not isinstance(output, str):
            raise bad_request(f"{where} must have a 'call_id' and an 'output' text.", where)
        return {"role": "tool", "tool_call_id": item["call_id"], "content": output}
    raise bad_request(f"{where} has the type {kind!r}, which this server does not read.", f"{where}.type")


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def _check_model(body: dict[str, Any], model_id: str) -> None:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("'model' is required: the id from /v1/models.", "model")
    if model != model_id:
        raise ApiError(404, f"The model {model!r} does not exist on this server; it serves {model_id!r}.",
                       code="model_not_found", param="model")


def _tools(tools: Any, tool_choice: Any) -> list[dict[str, Any]] | None:
    """The function tools offered (checked); tool_choice "none" offers none. Which of them the
    answer must call (tool_choice "required" or named) is `answer_shape`'s business."""
    if tools in (None, []):
        return None
    if not isinstance(tools, list):
        raise bad_request("'tools' must be a list of function tools.", "tools")
    for i, tool in enumerate(tools):
        function = tool.get("function", tool) if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            raise bad_request(f"tools[{i}] must be {{\"type\": \"function\", ...}}: only function tools are "
                              "supported.", f"tools[{i}]")
        name = function.get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise bad_request(f"tools[{i}] needs a name of letters, digits, _ or - (at most 64), not {name!r}.",
                              f"tools[{i}].function.name")
        parameters = function.get("parameters")
        if parameters is not None and (not isinstance(parameters, dict) or
                                       not isinstance(parameters.get("properties", {}), dict)):
            raise bad_request(f"tools[{i}].parameters must be a JSON schema object.", f"tools[{i}].function.parameters")
        check_tool(tool, function, i)
    try:
        function_tools(tools)  # the renderer's own checks
    except InvalidInput as problem:
        raise bad_request(str(problem), "tools") from problem
    return None if tool_choice == "none" else tools


def _sampling(body: dict[str, Any]) -> SamplingParams:
    values = {}
    for name, low, high in (("temperature", 0.0, 2.0), ("top_p", 0.0, 1.0)):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise bad_request(f"'{name}' must be a number from {low:g} to {high:g}, not {value!r}.", name)
        if name == "top_p" and value == 0:
            raise bad_request("'top_p' must be above 0.", name)
        values[name] = float(value)
    seed = check_seed(body.get("seed"))
    if seed is not None:
        values["seed"] = seed
    return SamplingParams(**values)


def _logit_bias(value: Any) -> tuple[tuple[int, float], ...]:
    """`logit_bias`: {"token id": bias from -100 to 100}, as OpenAI takes it."""
    if value is None:
        return ()
    if not isinstance(value, dict) or len(value) > MAX_LOGIT_BIASES:
        raise bad_request(f"'logit_bias' must be an object of at most {MAX_LOGIT_BIASES} token ids and biases, "
                          "such as {\"1734\": -100}.", "logit_bias")
    pairs = []
    for key, bias in value.items():
        try:
            token = int(key)
        except ValueError:
            token = -1
        if not 0 <= token < N_VOCAB:
            raise bad_request(f"'logit_bias' names {key!r}, which is not a token id (0 to {N_VOCAB - 1}).",
                              "logit_bias")
        if isinstance(bias, bool) or not isinstance(bias, (int, float)) or not -100 <= bias <= 100:
            raise bad_request(f"'logit_bias' gives token {key} the bias {bias!r}; a bias is a number from "
                              "-100 to 100.", "logit_bias")
        pairs.append((token, float(bias)))
    return tuple(pairs)


def _reasoning(body: dict[str, Any]) -> dict[str, Any]:
    """The `reasoning` object: `effort`, and `max_tokens` (OpenRouter's field), a thinking budget."""
    reasoning = body.get("reasoning") or {}
    if not isinstance(reasoning, dict):
        raise bad_request("'reasoning' must be an object such as {\"effort\": \"low\", \"max_tokens\": 512}.",
                          "reasoning")
    return reasoning


def _stops(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if (not isinstance(stops, list) or not 1 <= len(stops) <= MAX_STOPS
            or not all(isinstance(s, str) and s for s in stops)):
        raise bad_request(f"'stop' must be a text or a list of 1 to {MAX_STOPS} texts, none of them empty.", "stop")
    return tuple(stops)


def _effort(value: Any, param: str) -> str:
    if value is None:
        return "medium"
    if value not in REASONING_EFFORTS:
        raise bad_request(f"'{param}' must be low, medium or high, not {value!r}.", param)
    return value


def _positive(value: Any, param: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad_request(f"'{param}' must be a whole number of at least 1, not {value!r}.", param)
    return value


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad_request(f"'{name}' must be true or false.", name)
    return value


# -- answers ----------------------------------------------------------------------------
def chat_delta(piece: Piece, answer: Answer) -> dict[str, Any] | None:
    """The `chat.completion.chunk` delta for what one event added to the answer."""
    if piece.kind == "content":
        return {"content": piece.text}
    if piece.kind == "reasoning":
        return {"reasoning_content": piece.text}
    if piece.kind == "call":
        call = answer.calls[piece.call]
        return {"tool_calls": [{"index": piece.call, "id": call.id, "type": "function",
                                "function": {"name": call.name, "arguments": ""}}]}
    if piece.kind == "arguments":
        return {"tool_calls": [{"index": piece.call, "function": {"arguments": piece.text}}]}
    return None  # notices and format problems are not part of the API's answer


def completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex[:24]}"


def chat_completion(answer: Answer, model_id: str, request_id: str, logprobs: bool = False) -> dict[str, Any]:
    """The whole `chat.completion` object; `logprobs`: the request asked for them."""
    message: dict[str, Any] = {"role": "assistant", "content": answer.content or None}
    if answer.reasoning:
        message["reasoning_content"] = answer.reasoning
    if answer.calls:
        message["tool_calls"] = [call.as_chat() for call in answer.calls]
    elif message["content"] is None:
        message["content"] = ""
    return {"id": request_id, "object": "chat.completion", "created": int(time.time()), "model": model_id,
            "choices": [{"index": 0, "message": message, "finish_reason": answer.finish_reason,
                         "logprobs": {"content": answer.logprobs} if logprobs else None}],
            "usage": answer.usage()}


def chat_chunk(model_id: str, request_id: str, delta: dict[str, Any] | None, finish_reason: str | None = None,
               usage: dict[str, Any] | None = None, logprobs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One `chat.completion.chunk`; `delta` None gives the usage-only chunk (no choices)."""
    chunk: dict[str, Any] = {"id": request_id, "object": "chat.completion.chunk", "created": int(time.time()),
                             "model": model_id, "choices": []}
    if delta is not None:
        chunk["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish_reason,
                             "logprobs": {"content": logprobs} if logprobs is not None else None}]
    if usage is not None:
        chunk["usage"] = usage
    return chunk


class ChatFrames:
    """Stream frames (`chat.completion.chunk`s) for one chat completion; `opening()`, then
    `on_event()` per event, then `closing()` (or `failure()` when the model broke)."""

    done_marker = True  # chat streams end with `data: [DONE]`
    event_lines = False  # frames are bare `data:` lines

    def __init__(self, answer: Answer, model_id: str, request_id: str, include_usage: bool,
                 logprobs: bool = False):
        self.answer, self.model_id, self.request_id, self.include_usage = answer, model_id, request_id, include_usage
        # Log-probabilities of tokens whose text has not been sent yet; they ride with the next
        # content chunk (a token may end inside a character, whose text comes with the next one).
        self.logprobs = logprobs
        self._waiting: list[dict[str, Any]] = []

    def opening(self) -> list[dict[str, Any]]:
        return [chat_chunk(self.model_id, self.request_id, {"role": "assistant", "content": ""})]

    def on_event(self, event: Event) -> list[dict[str, Any]]:
        frames = []
        for piece in self.answer.add(event):
            if piece.kind == "logprob":
                self._waiting.append(piece.logprob)
                continue
            delta = chat_delta(piece, self.answer)
            if delta is None:
                continue
            entries = None
            if self.logprobs and "content" in delta:
                entries, self._waiting = self._waiting, []
            frames.append(chat_chunk(self.model_id, self.request_id, delta, logprobs=entries))
        return frames

    def closing(self) -> list[dict[str, Any]]:
        frames = []
        if self._waiting:
            frames.append(chat_chunk(self.model_id, self.request_id, {"content": ""}, logprobs=self._waiting))
            self._waiting = []
        frames.append(chat_chunk(self.model_id, self.request_id, {}, self.answer.finish_reason))
        if self.include_usage:
            frames.append(chat_chunk(self.model_id, self.request_id, None, usage=self.answer.usage()))
        return frames

    def failure(self, message: str) -> list[dict[str, Any]]:
        return [{"error": {"message": message, "type": "server_error", "param": None, "code": None}}]


def response_object(answer: Answer, model_id: str) -> dict[str, Any]:
    """The whole `/v1/responses` `response` object."""
    output: list[dict[str, Any]] = []
    if answer.reasoning:
        output.append({"type": "reasoning", "id": f"rs_{uuid.uuid4().hex[:24]}", "summary": [],
                       "content": [{"type": "reasoning_text", "text": answer.reasoning}]})
    if answer.content:
        output.append({"type": "message", "id": f"msg_{uuid.uuid4().hex[:24]}", "status": "completed",
                       "role": "assistant",
                       "content": [{"type": "output_text", "text": answer.content, "annotations": []}]})
    for call in answer.calls:
        output.append({"type": "function_call", "id": f"fc_{uuid.uuid4().hex[:24]}", "call_id": call.id,
                       "name": call.name, "arguments": call.arguments,
                       "status": "completed"})
    usage = answer.usage()
    incomplete = answer.finish_reason == "length"
    return {
        "id": f"resp_{uuid.uuid4().hex[:24]}", "object": "response", "created_at": int(time.time()),
        "status": "incomplete" if incomplete else "completed", "model": model_id, "output": output,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None, "error": None,
        "parallel_tool_calls": False, "tool_choice": "auto", "tools": [],
        "usage": {"input_tokens": usage["prompt_tokens"], "output_tokens": usage["completion_tokens"],
                  "total_tokens": usage["total_tokens"],
                  "input_tokens_details": {"cached_tokens": usage["prompt_tokens_details"]["cached_tokens"]},
                  "output_tokens_details": {"reasoning_tokens": 0}},
    }
