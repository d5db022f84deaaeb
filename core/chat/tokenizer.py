"""The o200k_harmony tokenizer of gpt-oss, built from local files only.

Owns: reading the vocabulary (a model folder's `tokenizer.json`, an `o200k_base.tiktoken` file,
or the copy shipped in `resources/`), building the `tiktoken.Encoding` by hand, and the
harmony special-token table. `tiktoken.get_encoding` is never called: it downloads its
vocabulary at run time, and Hearth must work with the network unplugged.
"""

from __future__ import annotations

import base64
import importlib.resources
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

import tiktoken

from core.errors import TokenizerError, why_unreadable

# o200k_base's pre-tokenization regex (tiktoken_ext/openai_public.py). gpt-oss only ever uses
# this vocabulary, so the pattern is fixed here rather than re-read from each tokenizer.json,
# whose regex dialect (Oniguruma) is not guaranteed to mean the same to tiktoken.
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

# tiktoken's regex engine gives up on a very long run of spaces or tabs (its backtracking
# limit) and the Rust panic that follows is no Python exception: such runs are encoded a piece
# at a time. Text without them is encoded exactly as before.
WHITESPACE_PIECE = 4096
LONG_WHITESPACE = re.compile(rf"(\s{{{WHITESPACE_PIECE},}})")  # split() keeps the runs

N_RANKS = 199_998  # o200k_base merge ranks: ids 0 .. 199997
N_VOCAB = 201_088  # ids 199998 .. 201087 are special


def harmony_special_tokens() -> dict[str, int]:
    """o200k_harmony's special tokens, as tiktoken and the published tokenizer.json define them.

    200018 is `<|endofprompt|>` (inherited from o200k_base); tiktoken also calls it
    `<|reserved_200018|>`, a second name we leave out so that id -> name is one-to-one.
    """
    named = {
        "<|startoftext|>": 199998,
        "<|endoftext|>": 199999,
        "<|return|>": 200002,
        "<|constrain|>": 200003,
        "<|channel|>": 200005,
        "<|start|>": 200006,
        "<|end|>": 200007,
        "<|message|>": 200008,
        "<|call|>": 200012,
        "<|endofprompt|>": 200018,
    }
    taken = set(named.values())
    reserved = {f"<|reserved_{i}|>": i for i in range(200_000, N_VOCAB) if i not in taken}
    return named | reserved


class Tokenizer:
    """Text <-> token ids for gpt-oss. Special tokens are never parsed out of plain text unless
    asked (`allow_special=True`), so a user typing `<|end|>` cannot forge a message boundary."""

    def __init__(self, ranks: dict[bytes, int], special: dict[str, int], source: Path):
        self.source = source
        try:
            self._encoding = tiktoken.Encoding(
                name="o200k_harmony",
                pat_str=O200K_PATTERN,
                mergeable_ranks=ranks,
                special_tokens=special,
            )
        except Exception as error:  # tiktoken raises plain ValueError/AssertionError
            raise TokenizerError(f"The tokenizer in {source} could not be built ({error}).") from error
        self.special: Mapping[str, int] = MappingProxyType(dict(special))
        self._special_ids = frozenset(special.values())
        self.n_vocab = max(N_VOCAB, self._encoding.max_token_value + 1)
        # The harmony tokens by short name; `return` is a Python keyword, hence `return_`.
        self.startoftext = special["<|startoftext|>"]
        self.endoftext = special["<|endoftext|>"]
        self.return_ = special["<|return|>"]
        self.constrain = special["<|constrain|>"]
        self.channel = special["<|channel|>"]
        self.start = special["<|start|>"]
        self.end = special["<|end|>"]
        self.message = special["<|message|>"]
        self.call = special["<|call|>"]
        # The tokens that end the assistant's turn, and how (core.chat.events.TurnEnded.how).
        self.stop_tokens: Mapping[int, str] = MappingProxyType(
            {self.return_: "return", self.call: "call", self.endoftext: "endoftext"})

    def __repr__(self) -> str:
        return f"Tokenizer(o200k_harmony from {self.source})"

    @property
    def encoding(self) -> tiktoken.Encoding:
        """The tiktoken encoding itself, for libraries that build on it (the grammar engine)."""
        return self._encoding

    def encode(self, text: str, *, allow_special: bool = False) -> list[int]:
        """Token ids of `text`. Special-token strings in it are ordinary text unless
        `allow_special`, in which case each becomes its single id."""
        if len(text) >= WHITESPACE_PIECE and LONG_WHITESPACE.search(text):
            return self._encode_long_whitespace(text, allow_special)
        return self._encode_piece(text, allow_special)

    def _encode_piece(self, text: str, allow_special: bool) -> list[int]:
        if allow_special:
            return self._encoding.encode(text, allowed_special="all")
        return self._encoding.encode_ordinary(text)

    def _encode_long_whitespace(self, text: str, allow_special: bool) -> list[int]:
        """`encode` with each long whitespace run cut into pieces; the run's last character stays
        with the text after it, as the pre-tokenizer would join it to the next word."""
        ids: list[int] = []
        carry = ""
        for i, part in enumerate(LONG_WHITESPACE.split(text)):
            if i % 2:  # a long whitespace run
                run, carry = part[:-1], part[-1]
                for start in range(0, len(run), WHITESPACE_PIECE):
                    ids += self._encoding.encode_ordinary(run[start:start + WHITESPACE_PIECE])
            elif carry + part:
                piece = carry + part
                carry = ""
                ids += self._encode_piece(piece, allow_special)
        return ids

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The exact bytes of `ids` (a token may end inside a UTF-8 character)."""
        ids = list(ids)
        bad = [i for i in ids if not 0 <= i < self.n_vocab]
        if bad:
            raise TokenizerError(f"Token id {bad[0]} is outside this vocabulary (0..{self.n_vocab - 1}).")
        return self._encoding.decode_bytes(ids)

    def decode(self, ids: Iterable[int]) -> str:
        """Text of `ids`; bytes that are not valid UTF-8 become U+FFFD."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    def is_special(self, token_id: int) -> bool:
        return token_id in self._special_ids

    def special_name(self, token_id: int) -> str:
        """`<|...|>` name of a special id (raises TokenizerError for an ordinary token)."""
        if token_id not in self._special_ids:
            raise TokenizerError(f"Token id {token_id} is not a special token.")
        return self._encoding.decode_single_token_bytes(token_id).decode("utf-8")


def load_tokenizer(path: str | Path) -> Tokenizer:
    """o200k_harmony from a model folder (its `tokenizer.json`, else an `o200k_base.tiktoken`
    beside it, else the copy shipped with Hearth), a `tokenizer.json`, or a `.tiktoken` file."""
    path = Path(path)
    if path.is_dir():
        for name in ("tokenizer.json", "o200k_base.tiktoken"):
            if (path / name).is_file():
                return load_tokenizer(path / name)
        return load_tokenizer(shipped_vocabulary())
    if not path.is_file():
        raise TokenizerError(f"No tokenizer was found at {path}: the file or folder does not exist.")
    if path.suffix == ".json":
        ranks, special = _read_tokenizer_json(path)
    else:
        ranks, special = _read_tiktoken(path), harmony_special_tokens()
    return Tokenizer(ranks, special, path)


def shipped_vocabulary() -> Path:
    """The o200k_base.tiktoken installed with Hearth (see resources/LICENSES.txt)."""
    resource = importlib.resources.files("resources") / "o200k_base.tiktoken"
    path = Path(str(resource))
    if not path.is_file():
        raise TokenizerError(
            "Hearth's own copy of the tokenizer vocabulary is missing; reinstalling Hearth should fix it."
        )
    return path


def _read_tiktoken(path: Path) -> dict[bytes, int]:
    try:
        lines = path.read_bytes().splitlines()
    except OSError as error:
        raise TokenizerError(f"The vocabulary file {path} cannot be read: {why_unreadable(error)}.") from None
    ranks: dict[bytes, int] = {}
    for number, line in enumerate(lines, start=1):
        try:
            if line:
                token, rank = line.split()
                ranks[base64.b64decode(token, validate=True)] = int(rank)
        except ValueError as error:
            raise TokenizerError(f"The vocabulary file {path} is damaged (line {number}).") from error
    _check_ranks(ranks, path)
    return ranks


def _read_tokenizer_json(path: Path) -> tuple[dict[bytes, int], dict[str, int]]:
    """Ranks and specials from a Hugging Face `tokenizer.json` in the byte-level BPE format the
    gpt-oss repos publish: `model.vocab` maps byte-level strings to ids (the o200k ranks),
    `added_tokens` lists the specials. Merges are implied by the ranks, so they are not read."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise TokenizerError(f"The tokenizer file {path} cannot be read: {why_unreadable(error)}.") from None
    try:
        data = json.loads(raw.decode("utf-8"))
        model = data["model"]
        vocab: dict[str, int] = model["vocab"]
        added = {entry["content"]: int(entry["id"]) for entry in data.get("added_tokens", [])}
    except (ValueError, KeyError, TypeError) as error:
        raise TokenizerError(f"{path} is damaged or is not a tokenizer file ({error}).") from error
    if model.get("type", "BPE") != "BPE":
        kind = model.get("type")
        raise TokenizerError(f"{path} describes a {kind} tokenizer; gpt-oss needs byte-level BPE.")
    to_byte = {char: byte for byte, char in _byte_level_alphabet().items()}
    ranks: dict[bytes, int] = {}
    for text, rank in vocab.items():
        if text in added or rank >= N_RANKS:  # some files list the specials in the vocab as well
            continue
        try:
            ranks[bytes(to_byte[char] for char in text)] = rank
        except KeyError as error:
            raise TokenizerError(f"{path} is not in the byte-level format gpt-oss uses.") from error
    special = harmony_special_tokens()
    by_id = {token_id: name for name, token_id in special.items()}
    for name, token_id in added.items():
        if special.get(name, token_id) != token_id:
            raise TokenizerError(f"{path} gives {name} the id {token_id}; gpt-oss uses {special[name]}.")
        by_id.pop(token_id, None)  # the file's name for an id wins over our reserved_ default
        by_id[token_id] = name
    _check_ranks(ranks, path)
    return ranks, {name: token_id for token_id, name in by_id.items()}


def _check_ranks(ranks: dict[bytes, int], path: Path) -> None:
    if sorted(ranks.values()) != list(range(N_RANKS)):
        raise TokenizerError(
            f"{path} does not hold the o200k vocabulary gpt-oss uses "
            f"({len(ranks)} tokens where {N_RANKS} numbered 0..{N_RANKS - 1} are expected)."
        )


def _byte_level_alphabet() -> dict[int, str]:
    """GPT-2's byte -> printable character map, used by byte-level tokenizer.json files:
    printable Latin-1 bytes stand for themselves, the rest are shifted to U+0100 onwards."""
    printable = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]  # '!'..'~', '¡'..'¬', '®'..'ÿ'
    alphabet = {byte: chr(byte) for byte in printable}
    shift = 0
    for byte in range(256):
        if byte not in alphabet:
            alphabet[byte] = chr(256 + shift)
            shift += 1
    return alphabet
