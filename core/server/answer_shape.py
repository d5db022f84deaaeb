"""What shape a request asks the answer to take, read from the OpenAI fields that say so:
chat completions' `response_format` and the Responses API's `text.format` (`json_schema`,
`json_object`, `text`), and `tool_choice` in both (`auto`, `none`, `required`, one named
function). The result is the core's `Structure` (core/chat/structured.py), which the engine
enforces token by token; None means free text.

A schema the grammar engine cannot enforce is a 400 that names the keyword, and `strict: true`
means what it means at OpenAI: every object lists all its properties in `required` and sets
`additionalProperties: false`, else 400. No constraint is ever silently dropped.
"""

from __future__ import annotations

import re
from typing import Any

from core.chat.structured import Function, JsonFormat, Structure, check_strict, check_structure
from core.errors import InvalidInput
from core.server.api_errors import bad_request
from core.server.request_checks import check_schema

FORMAT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # as OpenAI limits a response format's name


def refuse_other_constraints(body: dict[str, Any]) -> None:
    """Fields other servers take to constrain the answer (llama.cpp's `json_schema` and `grammar`,
    vLLM's `guided_*`): refused by name rather than ignored, which would leave the answer free."""
    for name in ("json_schema", "grammar", "guided_json", "guided_regex", "guided_choice", "guided_grammar"):
        if body.get(name) is not None:
            raise bad_request(f"'{name}' is not read by this server: to constrain the answer, send "
                              "'response_format': {\"type\": \"json_schema\", \"json_schema\": {\"name\": ..., "
                              "\"schema\": ...}}.", name)


def answer_shape(json_format: JsonFormat | None, tools: list[dict[str, Any]] | None,
                 tool_choice: Any, param: str) -> Structure | None:
    """The `Structure` of a request's answer; `tools` are the checked function tools offered."""
    functions = _chosen_functions(tools or [], tool_choice)
    if json_format is None and not functions:
        return None
    if json_format is not None and tools and not functions:
        # Tools offered with tool_choice "auto" next to a JSON answer: the model may still call any of them.
        functions = tuple(_function(tool) for tool in tools)
    structure = Structure(json_format, functions)
    try:
        check_structure(structure)
    except InvalidInput as problem:
        raise bad_request(str(problem), param if json_format is not None else "tools") from None
    return structure


def chat_response_format(value: Any) -> JsonFormat | None:
    """Chat completions' `response_format`."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("'response_format' must be an object such as {\"type\": \"json_object\"}.",
                          "response_format")
    kind = value.get("type")
    if kind == "json_schema":
        spec = value.get("json_schema")
        if not isinstance(spec, dict):
            raise bad_request("'response_format.json_schema' must be an object with a 'name' and a 'schema'.",
                              "response_format.json_schema")
        return _json_schema(spec, "response_format.json_schema")
    if kind == "json_object" and value.get("schema") is not None:
        # llama.cpp's and vLLM's spelling of a schema: honoured, not dropped.
        return _json_schema({"name": "json_object", "schema": value["schema"]}, "response_format")
    return _other_format(kind, "response_format")


def responses_text_format(value: Any) -> JsonFormat | None:
    """The Responses API's `text.format` (the schema's fields sit beside `type`)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("'text.format' must be an object such as {\"type\": \"json_object\"}.", "text.format")
    if value.get("type") == "json_schema":
        return _json_schema(value, "text.format")
    return _other_format(value.get("type"), "text.format")


def _other_format(kind: Any, param: str) -> JsonFormat | None:
    if kind == "text":
        return None
    if kind == "json_object":
        return JsonFormat(None, name="json_object", description="Any JSON object.")
    raise bad_request(f"'{param}.type' must be text, json_object or json_schema, not {kind!r}.", f"{param}.type")


def _json_schema(spec: dict[str, Any], where: str) -> JsonFormat:
    name = spec.get("name", "response")
    if not isinstance(name, str) or not FORMAT_NAME.match(name):
        raise bad_request(f"'{where}.name' must be letters, digits, _ or - (at most 64).", f"{where}.name")
    description = spec.get("description")
    if description is not None and not isinstance(description, str):
        raise bad_request(f"'{where}.description' must be text.", f"{where}.description")
    schema = spec.get("schema")
    if schema is None:
        raise bad_request(f"'{where}.schema' is required: the JSON schema the answer must follow.", f"{where}.schema")
    check_schema(schema, f"{where}.schema")
    strict = spec.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise bad_request(f"'{where}.strict' must be true or false.", f"{where}.strict")
    if strict:
        try:
            check_strict(schema)
        except InvalidInput as problem:
            raise bad_request(str(problem), f"{where}.schema") from None
    return JsonFormat(schema, name=name, description=description)


def _chosen_functions(tools: list[dict[str, Any]], choice: Any) -> tuple[Function, ...]:
    """The functions the answer must call: all for "required", one when named, none otherwise."""
    if choice in (None, "auto", "none"):
        return ()
    if choice == "required":
        if not tools:
            raise bad_request("tool_choice 'required' needs at least one tool in 'tools'.", "tool_choice")
        return tuple(_function(tool) for tool in tools)
    name = None
    if isinstance(choice, dict) and choice.get("type") == "function":
        # Chat completions: {"type": "function", "function": {"name": ...}};
        # Responses: {"type": "function", "name": ...}
        named = choice.get("function") if isinstance(choice.get("function"), dict) else choice
        name = named.get("name")
    if not isinstance(name, str):
        raise bad_request("'tool_choice' must be \"auto\", \"none\", \"required\" or "
                          "{\"type\": \"function\", \"function\": {\"name\": ...}}.", "tool_choice")
    for tool in tools:
        if _spec(tool).get("name") == name:
            return (_function(tool),)
    raise bad_request(f"tool_choice names the function {name!r}, which is not among 'tools'.", "tool_choice")


def _function(tool: dict[str, Any]) -> Function:
    spec = _spec(tool)
    parameters = spec.get("parameters")
    if spec.get("strict") and parameters is not None:
        try:
            check_strict(parameters)
        except InvalidInput as problem:
            raise bad_request(f"Tool {spec['name']!r}: {problem}", "tools") from None
    return Function(spec["name"], parameters)


def _spec(tool: dict[str, Any]) -> dict[str, Any]:
    return tool.get("function", tool)
