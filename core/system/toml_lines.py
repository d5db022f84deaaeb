"""Where each key of a TOML file is written: `key_lines(text)` maps every key path to its line.

tomllib gives values but no positions, so without this a policy error could not name the
line of the problem. The scan follows the file as TOML does: `[table]` and `[[array]]`
headers set the table the next keys belong to, dotted keys (`downloads.allowed = 5`) and
quoted keys (`"downloads" = 5`) name a path, and an inline table (`downloads = {allowed = 5}`)
names its keys on its own line. Values are skipped, not read: strings (multi-line ones too,
so text inside them that looks like a key is ignored), arrays over several lines, comments.

A path maps to the first line that brings it into being: for `[downloads]` that is the header,
for `downloads.allowed = 5` that line, and `("downloads",)` and `("downloads", "allowed")`
are both recorded. Keys inside arrays are not recorded (they have no path of their own).

The scan expects text that tomllib has accepted; on anything else it stops and returns the
lines found so far rather than raising.
"""

from __future__ import annotations

import bisect
import contextlib
import re
import tomllib

KeyPath = tuple[str, ...]

_BLANK = re.compile(r"(?:[ \t\r\n]|#[^\n]*)*")  # spaces, line ends and comments
_SPACE = re.compile(r"[ \t]*")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_BASIC = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_LITERAL = re.compile(r"'[^'\n]*'")
_MULTILINE_BASIC = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*""""{0,2}', re.DOTALL)
_MULTILINE_LITERAL = re.compile(r"'''(?:[^']|'(?!''))*''''{0,2}")
# A number, boolean or date; a date and time may be joined by a space (1979-05-27 07:32:00).
_SCALAR = re.compile(r"[^\s,\]}#]+(?: [0-9][^\s,\]}#]*)?")


class _Stop(Exception):
    """The text is not TOML the scan understands; keep what was found."""


def key_lines(text: str) -> dict[KeyPath, int]:
    """Every key path in `text` (a TOML document) and the line (from 1) where it first appears."""
    scan = _Scan(text)
    with contextlib.suppress(_Stop, IndexError, tomllib.TOMLDecodeError):
        scan.document()
    return scan.lines


class _Scan:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.lines: dict[KeyPath, int] = {}
        self._line_ends = [i for i, c in enumerate(text) if c == "\n"]

    # -- the document ---------------------------------------------------------------------
    def document(self) -> None:
        table: KeyPath = ()
        while True:
            self.skip(_BLANK)
            if self.pos >= len(self.text):
                return
            line = self.line()
            if self.text.startswith("[", self.pos):
                closing = "]]" if self.text.startswith("[[", self.pos) else "]"
                self.pos += len(closing)
                table = self.key()
                self.expect(closing)
                self.record(table, line)
            else:
                path = table + self.key()
                self.expect("=")
                self.record(path, line)
                self.value(path)

    def value(self, path: KeyPath | None) -> None:
        """Skips one value; records the keys of an inline table under `path` (unless None)."""
        self.skip(_SPACE)
        text, here = self.text, self.pos
        for pattern in (_MULTILINE_BASIC, _MULTILINE_LITERAL, _BASIC, _LITERAL):
            if match := pattern.match(text, here):
                self.pos = match.end()
                return
        if text.startswith("[", here):
            self.pos += 1
            while not self.closes("]"):
                self.value(None)
                self.closes(",")
        elif text.startswith("{", here):
            self.pos += 1
            while not self.closes("}"):
                line = self.line()
                inner = self.key()
                self.expect("=")
                if path is not None:
                    self.record(path + inner, line)
                self.value(None if path is None else path + inner)
                self.closes(",")
        elif match := _SCALAR.match(text, here):
            self.pos = match.end()
        else:
            raise _Stop

    def key(self) -> KeyPath:
        """A key, dotted or not: `a`, `"a b"`, `a . 'b'`."""
        parts = []
        while True:
            self.skip(_SPACE)
            for pattern in (_BARE_KEY, _BASIC, _LITERAL):
                if match := pattern.match(self.text, self.pos):
                    break
            else:
                raise _Stop
            parts.append(_key_text(match.group()))
            self.pos = match.end()
            self.skip(_SPACE)
            if not self.text.startswith(".", self.pos):
                return tuple(parts)
            self.pos += 1

    # -- small steps ----------------------------------------------------------------------
    def record(self, path: KeyPath, line: int) -> None:
        for end in range(1, len(path) + 1):
            self.lines.setdefault(path[:end], line)

    def line(self) -> int:
        return bisect.bisect_left(self._line_ends, self.pos) + 1

    def skip(self, pattern: re.Pattern[str]) -> None:
        self.pos = pattern.match(self.text, self.pos).end()

    def expect(self, token: str) -> None:
        self.skip(_SPACE)
        if not self.text.startswith(token, self.pos):
            raise _Stop
        self.pos += len(token)

    def closes(self, token: str) -> bool:
        """Skips blanks (arrays may span lines and hold comments), then `token` if it is next."""
        self.skip(_BLANK)
        if self.pos >= len(self.text):
            raise _Stop
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False


def _key_text(raw: str) -> str:
    if raw.startswith("'"):
        return raw[1:-1]
    if raw.startswith('"'):
        return tomllib.loads(f"k = {raw}")["k"]  # TOML's own reading of the escapes (\u00e9 ...)
    return raw
