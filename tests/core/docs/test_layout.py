"""Laying a document out as numbered lines, and cutting those lines into index chunks."""

from __future__ import annotations

import itertools

from core.docs.layout import Origin, chunks, document_lines, wrap
from core.docs.readers import Part


def test_wrap_keeps_empty_lines_and_whitespace():
    assert wrap("") == [""]
    assert wrap("a  b") == ["a  b"]
    pieces = wrap("word " * 30)
    assert all(len(p) <= 80 for p in pieces) and "".join(pieces) == "word " * 30


def test_lines_start_with_the_url_and_mark_pdf_pages():
    lines = document_lines("file:///d/a.pdf", [Part("one\ntwo", page=1), Part("three", page=3)])
    assert [line.text for line in lines] == ["URL: file:///d/a.pdf", "[page 1]", "one", "two", "[page 3]", "three"]
    assert lines[3].origin == Origin(page=1) and lines[5].origin == Origin(page=3)
    assert [line.marker for line in lines] == [True, True, False, False, True, False]


def test_text_lines_know_their_source_line_even_when_wrapped():
    long = "x " * 60
    lines = document_lines("file:///a.md", [Part(f"# Title\n{long}\nend", section="Title", first_line=1)])
    assert [(line.origin.line, line.continued) for line in lines[1:]] == [(1, False), (2, False), (2, True),
                                                                           (3, False)]
    assert lines[4].origin == Origin(None, 3, "Title")


def test_the_tool_link_marks_cannot_be_forged_by_a_document():
    lines = document_lines("file:///a.txt", [Part("see 【3†L1】", first_line=1)])
    assert lines[1].text == "see 〖3†L1〗"


def test_chunks_stay_within_a_page_and_rejoin_wrapped_lines():
    sentence = "the quick brown fox jumps over the lazy dog " * 3
    lines = document_lines("file:///a.pdf", [Part(sentence.strip(), page=1), Part("page two", page=2)])
    found = chunks(lines)
    assert [(c.first, c.last, c.origin.page) for c in found] == [(2, 3, 1), (5, 5, 2)]
    assert found[0].text == sentence.strip()  # a phrase wrapped across lines is one string again
    assert found[0].view.split("\n") == [lines[2].text, lines[3].text]


def test_long_text_is_cut_between_source_lines():
    text = "\n".join(f"line {i} " + "y" * 50 for i in range(100))
    found = chunks(document_lines("file:///a.txt", [Part(text, first_line=1)]), size=600)
    assert len(found) > 5
    assert all(c.text.startswith("line ") for c in found)
    assert found[0].first == 1 and all(a.last + 1 == b.first for a, b in itertools.pairwise(found))
