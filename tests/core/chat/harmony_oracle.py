"""The reference renderer `openai-harmony`, run offline on the shipped vocabulary, as the oracle the
harmony tests compare against token for token."""

from __future__ import annotations

import pytest

from core.chat.tokenizer import shipped_vocabulary

DATE = "2025-06-28"


def load_oracle():
    """(the openai_harmony module, its gpt-oss encoding)."""
    import openai_harmony as h

    # The reference renderer reads o200k_base.tiktoken from this folder instead of downloading.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIKTOKEN_ENCODINGS_BASE", str(shipped_vocabulary().parent))
        return h, h.load_harmony_encoding(h.HarmonyEncodingName.HARMONY_GPT_OSS)


def oracle_tokens(oracle, messages, *, effort="medium", instructions=None, tools=(), builtins=(),
                  drop_analysis=False):
    """Reference tokens: `messages` are (author, content, channel, recipient, content_type); an
    author that is no role ("functions.f", "browser.search", "python") is a tool."""
    h, encoding = oracle
    effort_enum = {"low": h.ReasoningEffort.LOW, "medium": h.ReasoningEffort.MEDIUM,
                   "high": h.ReasoningEffort.HIGH}[effort]
    system = h.SystemContent.new().with_reasoning_effort(effort_enum).with_conversation_start_date(DATE)
    if "browser" in builtins:
        system = system.with_browser_tool()
    if "python" in builtins:
        system = system.with_python_tool()
    rendered = [h.Message.from_role_and_content(h.Role.SYSTEM, system)]
    if instructions or tools:
        developer = h.DeveloperContent.new()
        if instructions:
            developer = developer.with_instructions(instructions)
        if tools:
            developer = developer.with_function_tools([
                h.ToolDescription.new(t["function"]["name"], t["function"].get("description", ""),
                                      parameters=t["function"].get("parameters"))
                for t in tools
            ])
        rendered.append(h.Message.from_role_and_content(h.Role.DEVELOPER, developer))
    for author, content, channel, recipient, content_type in messages:
        if author in ("user", "assistant"):
            message = h.Message.from_role_and_content(h.Role(author), content)
        else:
            message = h.Message.from_author_and_content(h.Author.new(h.Role.TOOL, author), content)
        if channel:
            message = message.with_channel(channel)
        if recipient:
            message = message.with_recipient(recipient)
        if content_type:
            message = message.with_content_type(content_type)
        rendered.append(message)
    config = h.RenderConversationConfig(auto_drop_analysis=drop_analysis)
    return encoding.render_conversation_for_completion(h.Conversation.from_messages(rendered),
                                                       h.Role.ASSISTANT, config)
