"""A conversation written out: Markdown to read or share, JSON keeping every channel
(reasoning, status, figures and the built-in tool calls included) to archive or process. Where the
reasoning is hidden (by the organisation's policy or the person's choice) neither carries it.
Citations (`【1†L3】`) stay as the model wrote them; the Markdown says each tool call in a line."""

from __future__ import annotations

import json
import re

from desktop.history import Conversation, Message
from desktop.tool_steps import step_title, steps_of


def to_markdown(conversation: Conversation, messages: list[Message], include_reasoning: bool = True) -> str:
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
        parts.append(m.content + "\n")
        if m.status in ("interrupted", "stopped", "error"):
            parts.append(f"*({m.status})*\n")
    return "\n".join(parts)


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
