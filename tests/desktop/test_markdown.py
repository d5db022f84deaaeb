"""Splitting streamed Markdown into prose and fenced code."""

from desktop.markdown import Block, split_blocks, to_plain_markdown


def test_prose_and_code_alternate():
    text = "Intro\n\n```python\nx = 1\n\ny = 2\n```\nAfter"
    assert split_blocks(text) == [Block("prose", "Intro"), Block("code", "x = 1\n\ny = 2", "python"),
                                  Block("prose", "After")]


def test_an_unclosed_fence_is_a_code_block_still_being_written():
    assert split_blocks("See:\n```js\nlet a") == [Block("prose", "See:"), Block("code", "let a", "js", closed=False)]


def test_longer_and_tilde_fences_need_a_matching_close():
    text = "````md\n```\ninner\n```\n````\n~~~\nt\n~~~"
    assert split_blocks(text) == [Block("code", "```\ninner\n```", "md"), Block("code", "t", "")]


def test_prose_is_cut_into_paragraphs_but_list_items_keep_their_continuations():
    table = "| a | b |\n|---|---|\n| 1 | 2 |"
    items = "1. First\n\n   more about the first\n   - nested"
    assert split_blocks(f"{table}\n\n{items}\n\n2. Second") == [
        Block("prose", table), Block("prose", items), Block("prose", "2. Second")]


def test_empty_text_has_no_blocks():
    assert split_blocks("") == [] and split_blocks("\n\n") == []


def test_reasoning_is_quoted_in_plain_markdown():
    assert to_plain_markdown("Answer", "line 1\nline 2") == "> **Thinking**\n> line 1\n> line 2\n\nAnswer"
