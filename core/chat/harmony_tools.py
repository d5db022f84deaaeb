"""Tool namespaces in harmony: chat-completions function tools rendered as the TypeScript-like
`namespace functions { ... }` block of the developer message gpt-oss was trained on; the same
layout declares the built-in `browser` in the system message (core/chat/builtin_tools.py).

The layout (comment lines, `?` for optional fields, `// default:` notes, 4-space nesting) is the
one the reference renderer `openai-harmony` produces; tests compare the two token for token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from core.errors import InvalidInput


def function_tools(tools: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """`{"name", "description", "parameters"}` for each tool, from chat-completions tools
    (`{"type": "function", "function": {...}}`) or bare function definitions."""
    result = []
    for tool in tools or ():
        function = tool.get("function", tool) if tool.get("type", "function") == "function" else None
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            raise InvalidInput(f"A tool definition is not a function with a name: {json.dumps(tool)[:200]}")
        result.append({
            "name": function["name"],
            "description": function.get("description") or "",
            "parameters": function.get("parameters"),
        })
    return result


def tools_section(tools: list[dict[str, Any]]) -> str:
    """The `# Tools` section of the developer message."""
    return "# Tools\n\n" + namespace_section("functions", None, tools)


def namespace_section(name: str, description: str | None, tools: list[dict[str, Any]]) -> str:
    """One `## name` tool namespace: its description (as `//` comments above the namespace's
    functions, or as plain text when it has none, like the built-in `python`), then the functions."""
    lines = [f"## {name}\n"]
    for line in (description or "").splitlines():
        lines.append(f"// {line}" if tools else line)
    if not tools:
        return "\n".join(lines)
    lines.append(f"namespace {name} {{\n")
    for tool in tools:
        lines += [f"// {line}" for line in tool["description"].splitlines()]
        if tool["parameters"] is None:
            lines.append(f"type {tool['name']} = () => any;\n")
        else:
            parameters = schema_to_typescript(tool["parameters"], "")
            lines.append(f"type {tool['name']} = (_: {parameters}) => any;\n")
    lines.append(f"}} // namespace {name}")
    return "\n".join(lines)


def schema_to_typescript(schema: Mapping[str, Any], indent: str) -> str:
    """A JSON schema as a TypeScript type; unknown constructs become `any`, as in the reference."""
    if isinstance(schema.get("oneOf"), list):
        return "".join(f"\n{indent} | {_variant(v, indent)}" for v in schema["oneOf"])
    kind = schema.get("type")
    if isinstance(kind, list):
        names = ["number" if k == "integer" else k for k in kind if isinstance(k, str)]
        return " | ".join(names) if names else "any"
    if kind == "object":
        return _object(schema, indent)
    if kind == "string":
        values = [f'"{v}"' for v in schema.get("enum") or () if isinstance(v, str)]
        return " | ".join(values) if values else "string"
    if kind in ("number", "integer"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "array":
        items = schema.get("items")
        return f"{schema_to_typescript(items, indent)}[]" if isinstance(items, Mapping) else "Array<any>"
    return "any"


def _object(schema: Mapping[str, Any], indent: str) -> str:
    out = f"{indent}// {schema['description']}\n" if isinstance(schema.get("description"), str) else ""
    out += "{\n"
    required = set(schema.get("required") or ())
    for key, value in (schema.get("properties") or {}).items():
        optional = "" if key in required else "?"
        if isinstance(value.get("title"), str):
            out += f"{indent}// {value['title']}\n{indent}//\n"
        one_of = isinstance(value.get("oneOf"), list)
        if not one_of and isinstance(value.get("description"), str):
            out += f"{indent}// {value['description']}\n"
        out += _examples(value, indent)
        if one_of:
            out += _one_of_property(key + optional, value, indent)
            continue
        out += f"{indent}{key}{optional}: {_nullable(value, schema_to_typescript(value, indent + '    '))},"
        if "default" in value:
            out += f" // default: {_default(value)}"
        out += "\n"
    return out + f"{indent}}}"


def _one_of_property(name: str, value: Mapping[str, Any], indent: str) -> str:
    variants = value["oneOf"]
    description = value.get("description") if isinstance(value.get("description"), str) else None
    # The property's description is written above it, unless the first variant repeats it.
    first_repeats = bool(variants) and isinstance(variants[0], Mapping) and (
        description is not None and variants[0].get("description") == description)
    above = description is not None and not first_repeats
    out = f"{indent}// {description}\n" if above else ""
    if "default" in value:
        out += f"{indent}// default: {_default(value)}\n"
    out += f"{indent}{name}:\n"
    for i, variant in enumerate(variants):
        text = _variant(variant, indent, skip_description=(i == 0 and above), avoid=description)
        out += f"{indent} | {text}\n"
    return out + f"{indent},\n"


def _variant(variant: Mapping[str, Any], indent: str, skip_description: bool = False,
             avoid: str | None = None) -> str:
    text = _nullable(variant, schema_to_typescript(variant, indent + "   "))
    notes = []
    description = variant.get("description")
    if not skip_description and isinstance(description, str) and description != avoid:
        notes.append(description)
    if "default" in variant:
        default = variant["default"]
        notes.append(f'default: "{default}"' if isinstance(default, str) else f"default: {_default(variant)}")
    return text + (f" // {' '.join(notes)}" if notes else "")


def _examples(value: Mapping[str, Any], indent: str) -> str:
    examples = [e for e in value.get("examples") or () if isinstance(e, str)]
    if not examples:
        return ""
    return f"{indent}// Examples:\n" + "".join(f'{indent}// - "{e}"\n' for e in examples)


def _nullable(schema: Mapping[str, Any], text: str) -> str:
    return f"{text} | null" if schema.get("nullable") is True and "null" not in text else text


def _default(schema: Mapping[str, Any]) -> str:
    default = schema["default"]
    if isinstance(default, str):
        # Enum defaults are written bare, free-text defaults quoted (the reference's rule).
        return default if schema.get("enum") else f'"{default}"'
    return json.dumps(default, ensure_ascii=False, separators=(",", ":"))
