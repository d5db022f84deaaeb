"""Checks of the parts of an OpenAI request that the core reads loosely: message contents, an
assistant's tool calls, tool definitions and their JSON schemas, and the fields this server
accepts without acting on them. A wrong value is a 400 that names the field (`param`), never a
500 from deep inside the prompt renderer, and never silently ignored.

Accepted and not acted on, as documented in the README: `store` and `metadata` (nothing is kept),
`user`, `service_tier`, and `parallel_tool_calls` (gpt-oss calls one tool at a time).
"""

from __future__ import annotations

from typing import Any

from core.server.api_errors import bad_request

MAX_SCHEMA_DEPTH = 32  # deeper tool schemas are refused, not rendered by recursion
SEED_RANGE = (-(2**63), 2**64 - 1)  # what the sampler's generator takes
TEXT_PARTS = ("text", "input_text", "output_text")


def check_message(message: dict[str, Any], i: int) -> None:
    """A chat message whose role is already known good."""
    where = f"messages[{i}]"
    role = message["role"]
    content = message.get("content")
    if role == "assistant":
        if content is not None:
            _text_content(content, f"{where}.content")
        _tool_calls(message.get("tool_calls"), where)
    elif role == "tool":
        if not isinstance(content, dict):  # a tool result may come as a JSON object
            _text_content(content, f"{where}.content")
        for name in ("tool_call_id", "name"):
            if message.get(name) is not None and not isinstance(message[name], str):
                raise bad_request(f"{where}.{name} must be text.", f"{where}.{name}")
    else:
        _text_content(content, f"{where}.content")
    if message.get("name") is not None and not isinstance(message["name"], str):
        raise bad_request(f"{where}.name must be text.", f"{where}.name")
    for name in ("reasoning", "reasoning_content", "thinking"):
        if message.get(name) is not None and not isinstance(message[name], str):
            raise bad_request(f"{where}.{name} must be text.", f"{where}.{name}")


def check_tool(tool: dict[str, Any], function: dict[str, Any], i: int) -> None:
    """A function tool's description and parameter schema."""
    where = f"tools[{i}].function"
    if function.get("description") is not None and not isinstance(function["description"], str):
        raise bad_request(f"{where}.description must be text.", f"{where}.description")
    if function.get("parameters") is not None:
        check_schema(function["parameters"], f"{where}.parameters")


def check_schema(schema: Any, where: str, depth: int = 0) -> None:
    """A JSON schema as far as the tool renderer reads it: objects all the way down."""
    if not isinstance(schema, dict):
        raise bad_request(f"{where} must be a JSON schema (an object), not {_show(schema)}.", where)
    if depth > MAX_SCHEMA_DEPTH:
        raise bad_request(f"{where} nests deeper than {MAX_SCHEMA_DEPTH} levels.", where)
    kind = schema.get("type")
    if kind is not None and not isinstance(kind, str) and not (
            isinstance(kind, list) and all(isinstance(k, str) for k in kind)):
        raise bad_request(f"{where}.type must be a type name or a list of them.", f"{where}.type")
    for key in ("description", "title"):
        if schema.get(key) is not None and not isinstance(schema[key], str):
            raise bad_request(f"{where}.{key} must be text.", f"{where}.{key}")
    for key in ("properties", "$defs", "definitions"):
        if key in schema:
            if not isinstance(schema[key], dict):
                raise bad_request(f"{where}.{key} must be an object of schemas.", f"{where}.{key}")
            for name, sub in schema[key].items():
                check_schema(sub, f"{where}.{key}.{name}", depth + 1)
    for key in ("oneOf", "anyOf", "allOf", "prefixItems"):
        if key in schema:
            if not isinstance(schema[key], list):
                raise bad_request(f"{where}.{key} must be a list of schemas.", f"{where}.{key}")
            for n, sub in enumerate(schema[key]):
                check_schema(sub, f"{where}.{key}[{n}]", depth + 1)
    items = schema.get("items")
    if isinstance(items, list):
        for n, sub in enumerate(items):
            check_schema(sub, f"{where}.items[{n}]", depth + 1)
    elif items is not None and not isinstance(items, bool):
        check_schema(items, f"{where}.items", depth + 1)
    extra = schema.get("additionalProperties")
    if extra is not None and not isinstance(extra, bool):
        check_schema(extra, f"{where}.additionalProperties", depth + 1)
    if "enum" in schema and not isinstance(schema["enum"], list):
        raise bad_request(f"{where}.enum must be a list.", f"{where}.enum")
    required = schema.get("required")
    if required is not None and not (isinstance(required, list) and all(isinstance(r, str) for r in required)):
        raise bad_request(f"{where}.required must be a list of property names.", f"{where}.required")


def check_seed(seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise bad_request(f"'seed' must be a whole number, not {_show(seed)}.", "seed")
    if not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
        raise bad_request("'seed' must fit in 64 bits.", "seed")
    return seed


def check_accepted_fields(body: dict[str, Any]) -> None:
    """Fields that change nothing here: right values pass, wrong ones are a 400."""
    for name in ("store", "parallel_tool_calls"):
        if body.get(name) is not None and not isinstance(body[name], bool):
            raise bad_request(f"'{name}' must be true or false.", name)
    for name in ("user", "service_tier"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise bad_request(f"'{name}' must be text.", name)
    metadata = body.get("metadata")
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(v, str) for v in metadata.values())):
        raise bad_request("'metadata' must be an object of text values.", "metadata")


def check_unsupported_chat_fields(body: dict[str, Any]) -> None:
    """Chat-completions fields whose meaning this server cannot give: a 400 unless neutral."""
    for name in ("presence_penalty", "frequency_penalty"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not -2 <= value <= 2:
            raise bad_request(f"'{name}' must be a number from -2 to 2, not {_show(value)}.", name)
        if value != 0:
            raise bad_request(f"'{name}' is not supported by this server; leave it out or send 0.", name)
    top_logprobs = body.get("top_logprobs")
    if top_logprobs is not None:
        if isinstance(top_logprobs, bool) or not isinstance(top_logprobs, int) or not 0 <= top_logprobs <= 20:
            raise bad_request("'top_logprobs' must be a whole number from 0 to 20.", "top_logprobs")
        if top_logprobs and not body.get("logprobs"):
            raise bad_request("'top_logprobs' needs 'logprobs': true.", "top_logprobs")
    modalities = body.get("modalities")
    if modalities is not None:
        if not isinstance(modalities, list) or not all(isinstance(m, str) for m in modalities):
            raise bad_request("'modalities' must be a list such as [\"text\"].", "modalities")
        if any(m != "text" for m in modalities):
            raise bad_request("Only text answers are supported ('modalities' must be [\"text\"]).", "modalities")


def _text_content(content: Any, where: str) -> None:
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise bad_request(f"{where} must be text or a list of text parts, not {_show(content)}.", where)
    for n, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") not in TEXT_PARTS:
            raise bad_request(f"{where}[{n}] is not a text part; gpt-oss reads text only.", f"{where}[{n}]")
        if not isinstance(part.get("text"), str):
            raise bad_request(f"{where}[{n}].text must be text.", f"{where}[{n}].text")


def _tool_calls(calls: Any, where: str) -> None:
    if calls is None:
        return
    if not isinstance(calls, list):
        raise bad_request(f"{where}.tool_calls must be a list of tool calls.", f"{where}.tool_calls")
    for n, call in enumerate(calls):
        at = f"{where}.tool_calls[{n}]"
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            raise bad_request(f"{at} must be {{\"type\": \"function\", \"function\": {{\"name\", \"arguments\"}}}}.",
                              at)
        if call.get("type", "function") != "function":
            raise bad_request(f"{at}.type must be 'function'.", f"{at}.type")
        if call.get("id") is not None and not isinstance(call["id"], str):
            raise bad_request(f"{at}.id must be text.", f"{at}.id")
        if not isinstance(function.get("name"), str) or not function["name"]:
            raise bad_request(f"{at}.function.name must be the tool's name.", f"{at}.function.name")
        if not isinstance(function.get("arguments", "{}"), (str, dict)):
            raise bad_request(f"{at}.function.arguments must be JSON text.", f"{at}.function.arguments")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
