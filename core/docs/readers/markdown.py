"""Markdown files: the text as written, one part per heading, numbered by source line."""

from __future__ import annotations

import re
from pathlib import Path

from core.docs.readers import Part, Read
from core.docs.readers.text import decode

HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^ {0,3}(```|~~~)")


def read(path: Path) -> Read:
    return split_sections(decode(path.read_bytes()))


def split_sections(text: str) -> Read:
    lines = text.split("\n")
    parts: list[Part] = []
    start, section, title, fenced = 0, None, "", False
    for i, line in enumerate(lines):
        if FENCE.match(line):
            fenced = not fenced
            continue
        heading = None if fenced else HEADING.match(line)
        if heading is None:
            continue
        if i > start:
            parts.append(Part("\n".join(lines[start:i]), section=section, first_line=start + 1))
        start, section = i, heading.group(2)
        title = title or section
    parts.append(Part("\n".join(lines[start:]), section=section, first_line=start + 1))
    return Read(title, tuple(parts))
