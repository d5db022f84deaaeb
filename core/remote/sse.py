"""Server-sent events, as OpenAI-compatible servers stream answers: `data:` lines, a blank line
ending each event, `event:` names and `:` comments (keep-alives) that carry nothing here.

`sse_data(lines)` yields each event's data text; a chat-completions stream ends with the data
`[DONE]`, which is yielded like any other (the reader decides)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def sse_data(lines: Iterable[str]) -> Iterator[str]:
    """The data of each event in `lines` (a stream's text, line by line, without line ends)."""
    data: list[str] = []
    for line in lines:
        line = line.rstrip("\r")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:  # a last event without its blank line: servers that close right after it
        yield "\n".join(data)
