"""Structured answers: what shape a turn's answer must take, and the token mask that makes it so.

A `Structure` says what the answer may be: a final answer that is JSON (valid against a schema,
or any JSON object), a call to one of some functions with arguments valid against that
function's parameters schema, or either. `grammar()` writes the whole assistant turn as one
grammar over harmony's own tokens: an optional analysis message whose text is free (the
reasoning is never constrained), then the final message or the call, then `<|return|>` or
`<|call|>`. Where the turn offers built-in tools (`builtins`: the browser, python), a call to one
of them is a third way to end the step (its text free, as the tool reads it); the tool's result
comes back and the next step is held to the same grammar, so the answer is still the JSON asked.
Control tokens exist only where the format puts them, so `<|end|>` or `<|call|>`
can never appear inside a JSON string, and the turn cannot end before the answer is complete.

`TokenMask` runs that grammar while the model writes: before each sampled token it removes
every token the grammar does not allow from the logits, and after it follows the token chosen
(sampled or forced by the reasoning budget).

The grammar engine is llguidance (MIT, one wheel without dependencies). Measured here with the
real 201,088-token o200k_harmony vocabulary: building its tokenizer takes ~0.8 s once per
vocabulary, compiling a 5-field schema ~1.5 ms, a mask ~10-50 us per token (one decode step of
gpt-oss-20b on this processor takes ~90 ms). It reads harmony's special tokens inside a grammar,
and it refuses schema keywords it cannot enforce (`not`, `if`, look-around patterns) with an
error instead of silently ignoring them, which becomes the 400 that names the keyword.
xgrammar (faster per token) needs torch + transformers at import, ignored `allOf`/`not`/`if`
without a word, and let `<|end|>` into JSON strings in a test; outlines-core took 2-11 s to
compile a schema.
Shapes: V vocabulary.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from core.chat.builtin_tools import BUILTIN_TOOLS, offered_builtins
from core.chat.tokenizer import Tokenizer
from core.errors import InvalidInput

# Between two JSON tokens at most one space, or one line break and an indentation: pretty-printed
# JSON stays possible (gpt-oss often indents), while a model cannot fill its answer with blanks.
JSON_WHITESPACE = r"[\x20]|\x0A[\x20\x09]{0,40}"
# Ordinary JSON for `json_object`: any object.
ANY_OBJECT: Mapping[str, Any] = {"type": "object"}


@dataclass(frozen=True)
class JsonFormat:
    """The final answer as JSON: valid against `schema` (None: any JSON object). `name` and
    `description` go to the model with the schema, in the developer message."""

    schema: Mapping[str, Any] | None = None
    name: str = "response"
    description: str | None = None


@dataclass(frozen=True)
class Function:
    """A function the answer may call, with its parameters schema (None: any JSON object)."""

    name: str
    parameters: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Structure:
    """What the answer may be: the final answer as `json` (when given) and/or a call to one of
    `functions` (when given). With neither there is nothing to constrain."""

    json: JsonFormat | None = None
    functions: tuple[Function, ...] = field(default_factory=tuple)
    # The built-in tools ("browser", "python") the model may call on its way to the answer.
    builtins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.json is None and not self.functions:
            raise InvalidInput("A structured answer needs a JSON format or functions to call.")


def response_formats_section(json_format: JsonFormat) -> str:
    """The developer message's `# Response Formats` section, as harmony gives a schema to the model."""
    lines = ["# Response Formats", "", f"## {json_format.name}", ""]
    if json_format.description:
        lines.append(f"// {json_format.description}")
    lines.append(json.dumps(dict(json_format.schema or ANY_OBJECT), ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines)


def grammar(structure: Structure) -> str:
    """The Lark grammar (llguidance's dialect) of the whole assistant turn after `<|start|>assistant`."""
    answers, rules = [], []
    if structure.json is not None:
        answers.append("final")
        rules += ['final: <|channel|> "final" <|message|> final_json <|return|>',
                  f"final_json: %json{_json_schema(structure.json.schema)}"]
    for n, function in enumerate(structure.functions):
        answers.append(f"call_{n}")
        header = json.dumps(f"commentary to=functions.{function.name} ")
        rules += [f'call_{n}: <|channel|> {header} <|constrain|> "json" <|message|> arguments_{n} <|call|>',
                  f"arguments_{n}: %json{_json_schema(function.parameters)}"]
    recipients = builtin_recipients(structure.builtins)
    if recipients:
        # Both places harmony allows the recipient (`to=` in the header's role part or its channel
        # part), and the content types gpt-oss writes after it, as the parser reads them.
        names = " | ".join(json.dumps(name) for name in recipients)
        answers.append("builtin_call")
        rules += ["builtin_call: builtin_to <|channel|> \"analysis\" content_type <|message|> CODE <|call|>"
                  " | <|channel|> \"analysis\" builtin_to content_type <|message|> CODE <|call|>",
                  'builtin_to: " to=" builtin_name',
                  f"builtin_name: {names}",
                  'content_type: "" | " code" | " json" | " " <|constrain|> "json"',
                  "CODE: /(?s:.*)/"]
    return "\n".join([
        "start: thinking? answer",
        'thinking: <|channel|> "analysis" <|message|> THOUGHT <|end|> <|start|> "assistant"',
        "THOUGHT: /(?s:.*)/",
        f"answer: {' | '.join(answers)}",
        *rules,
    ])


def builtin_recipients(builtins: Sequence[str]) -> list[str]:
    """The names a built-in call is addressed to: `browser.search`, `browser.open`,
    `browser.find`, `python`, for the built-ins offered."""
    recipients = []
    for name in offered_builtins(builtins):
        functions = BUILTIN_TOOLS[name].functions
        recipients += [f"{name}.{f['name']}" for f in functions] if functions else [name]
    return recipients


def check_structure(structure: Structure) -> None:
    """Raises `InvalidInput` naming what the grammar engine cannot enforce (a schema keyword, a
    pattern), so no request is ever answered with a constraint silently dropped."""
    import llguidance

    problem = llguidance.LLMatcher.validate_grammar(llguidance.grammar_from("lark", grammar(structure)))
    if problem:
        raise InvalidInput(f"This JSON schema cannot be enforced: {_first_reason(problem)}.")


def check_strict(schema: Any, where: str = "schema") -> None:
    """OpenAI's `strict: true` rules: every object lists all its properties in `required` and sets
    `additionalProperties: false`. Raises `InvalidInput` naming the first object that does not."""
    if isinstance(schema, Mapping):
        properties = schema.get("properties")
        if schema.get("type") == "object" or isinstance(properties, Mapping):
            names = list(properties or {})
            missing = [name for name in names if name not in (schema.get("required") or [])]
            if missing:
                raise InvalidInput(f"With 'strict': true, {where}.required must list every property; "
                                   f"missing: {', '.join(missing)}.")
            if schema.get("additionalProperties") is not False:
                raise InvalidInput(f"With 'strict': true, {where}.additionalProperties must be false.")
        for key, value in schema.items():
            if key in ("properties", "$defs", "definitions") and isinstance(value, Mapping):
                for name, sub in value.items():
                    check_strict(sub, f"{where}.{key}.{name}")
            elif key in ("items", "additionalProperties", "not", "if", "then", "else", "contains"):
                check_strict(value, f"{where}.{key}")
            elif key in ("anyOf", "oneOf", "allOf", "prefixItems") and isinstance(value, Sequence):
                for n, sub in enumerate(value):
                    check_strict(sub, f"{where}.{key}[{n}]")


class TokenMask:
    """The grammar of `structure`, followed token by token over one turn."""

    def __init__(self, structure: Structure, tokenizer: Tokenizer):
        import llguidance
        import llguidance.torch

        self._fill = llguidance.torch.fill_next_token_bitmask
        lltokenizer = _lltokenizer(tokenizer)
        self.matcher = llguidance.LLMatcher(lltokenizer, llguidance.grammar_from("lark", grammar(structure)))
        if self.matcher.is_error():
            raise InvalidInput(f"This JSON schema cannot be enforced: {_first_reason(self.matcher.get_error())}.")
        self.bitmask = llguidance.torch.allocate_token_bitmask(1, lltokenizer.vocab_size)  # int32 [1, V/32]
        self._bits = torch.arange(32, dtype=torch.int32)

    def restrict(self, logits: torch.Tensor) -> torch.Tensor:
        """`logits` [V] with every token the grammar forbids next set to -inf (a new tensor)."""
        self._fill(self.matcher, self.bitmask, 0)
        # Bit j of word i allows token 32*i + j. (llguidance's own apply_token_bitmask_inplace
        # takes ~20-45 ms per call on a CPU tensor of this size; this takes ~0.3 ms.)
        allowed = ((self.bitmask[0, :, None] >> self._bits) & 1).view(-1)[:logits.shape[-1]].bool()  # [V]
        return logits.float().masked_fill(~allowed, float("-inf"))

    def accept(self, token: int) -> None:
        """Follow the chosen token; one the grammar refuses is an engine bug, said plainly."""
        if not self.matcher.consume_token(token):
            why = (self.matcher.get_error() or "not allowed here").splitlines()[0]
            raise InvalidInput(f"The answer left its required format at token {token} ({why}).")

    @property
    def complete(self) -> bool:
        return self.matcher.is_stopped()


@functools.lru_cache(maxsize=2)
def _lltokenizer(tokenizer: Tokenizer) -> Any:
    """llguidance's view of the vocabulary (~0.8 s to build; kept for the tokenizer's life)."""
    import llguidance.tiktoken

    return llguidance.tiktoken.lltokenizer_from_encoding(
        tokenizer.encoding, n_vocab=tokenizer.n_vocab, eos_token=tokenizer.return_)


def _json_schema(schema: Mapping[str, Any] | None) -> str:
    schema = dict(schema if schema is not None else ANY_OBJECT)
    schema.setdefault("x-guidance", {"whitespace_pattern": JSON_WHITESPACE})
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))


def _first_reason(error: str) -> str:
    """The one line of llguidance's error that says what is wrong, without its grammar excerpt."""
    lines = [line.strip() for line in error.splitlines()]
    detail = next((line.removeprefix("error:").strip() for line in lines if line.startswith("error:")), None)
    for line in lines:
        if "failed to compile JSON schema:" in line:
            reason = line.split("failed to compile JSON schema:", 1)[1].strip()
            return (f"{reason.rstrip(':')}: {detail}" if detail else reason).rstrip(".")
    first = error.strip().splitlines()[0] if error.strip() else "unknown reason"
    return re.sub(r"^at \d+\(\d+\): ", "", first).rstrip(".")
