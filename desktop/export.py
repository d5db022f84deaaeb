"""A conversation written out: Markdown to read or share, JSON keeping every channel
(reasoning, status, figures, the built-in tool calls and the citations kept with each answer
included) to archive or process. Where the reasoning is hidden (by the organisation's policy or the
person's choice) neither carries it.

Citations (`【1†L3】`) stay as the model wrote them; the Markdown says each tool call in a line, and
gives each citation the answer keeps (desktop/kept_citations.py) a footnote naming the file, its
page or lines, and where it is (`【1†L3】[^1]` … `[^1]: manual.md, line 3 (/home/ana/manual.md)`),
one note per place however often it is cited. Citations in code are left alone, as the window does."""

from __future__ import annotations

import json
import re

from core.chat.browser_tool import Citation, find_citations
from desktop.history import Conversation, Message
from desktop.kept_citations import kept_resolver
from desktop.tool_steps import step_title, steps_of

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def to_markdown(conversation: Conversation, messages: list[Message], include_reasoning: bool = True) -> str:
    sources: dict[tuple, int] = {}  # a cited place -> its footnote's number, across the whole chat
    parts = [f"# {conversation.title}\n"]
    if conversation.instructions:
        parts.append(f"*Instructions:* {conversation.instructions}\n")
    for m in messages:
        who = "You" if m.role == "user" else "Hearth"
        parts.append(f"## {who}\n")
        if m.reasoning and include_reasoning:
            quoted = "\n".join("> " + line for line in m.reasoning.splitlines())
            parts.append(f"> **Thinking**\n{quoted}\n")
        steps = steps_of(m.stats)
        if steps:
            parts.append("\n".join(f"> *{step_title(step)}*" for step in steps) + "\n")
        content, notes = _footnoted(m, sources)
        parts.append(content + "\n")
        if notes:
            parts.append("\n".join(notes) + "\n")
        if m.status in ("interrupted", "stopped", "error"):
            parts.append(f"*({m.status})*\n")
    return "\n".join(parts)


def _footnoted(message: Message, sources: dict[tuple, int]) -> tuple[str, list[str]]:
    """The answer's text with a footnote mark after each citation it keeps, and the notes it adds."""
    resolve = kept_resolver(message.stats)
    if resolve is None:
        return message.content, []
    notes: list[str] = []
    lines, fence = [], None
    for line in message.content.split("\n"):
        match = _FENCE.match(line)
        if match and (fence is None or match.group(1)[0] == fence[0]):
            fence = match.group(1) if fence is None else None
        elif fence is None:
            line = _mark_citations(line, resolve, sources, notes)
        lines.append(line)
    return "\n".join(lines), notes


def _mark_citations(line: str, resolve, sources: dict[tuple, int], notes: list[str]) -> str:
    pieces, at = [], 0
    for mark in find_citations(line):
        citation = resolve(mark.cursor, mark.first, mark.last)
        if citation is None:
            continue
        place = (str(citation.path), citation.page, citation.line, citation.last_line, citation.document_first)
        if place not in sources:
            sources[place] = len(sources) + 1
            notes.append(f"[^{sources[place]}]: {_source(citation)}")
        pieces.append(f"{line[at:mark.end]}[^{sources[place]}]")
        at = mark.end
    return "".join(pieces) + line[at:]


def _source(c: Citation) -> str:
    """A cited place in words: `manual.md, lines 3–5 (/home/ana/manual.md)`."""
    where = (f"page {c.page}" if c.page else
             f"lines {c.line}–{c.last_line}" if c.line and c.last_line and c.last_line > c.line else
             f"line {c.line}" if c.line else f"“{c.section}”" if c.section else "")
    return f"{c.path.name}{', ' + where if where else ''} ({c.path})"


def to_json(conversation: Conversation, messages: list[Message], include_reasoning: bool = True) -> str:
    return json.dumps({
        "title": conversation.title,
        "instructions": conversation.instructions,
        "messages": [
            {"role": m.role,
             "channels": {"final": m.content, **({"analysis": m.reasoning} if include_reasoning else {})},
             "reasoning_seconds": m.reasoning_seconds, "status": m.status, "model": m.model, "stats": m.stats}
            for m in messages
        ],
    }, indent=2, ensure_ascii=False)


def file_name(title: str) -> str:
    """A file name from a chat's title, safe on every system (no path separators or reserved marks)."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", title).strip(" .")
    return (" ".join(name.split()) or "Chat")[:80]
