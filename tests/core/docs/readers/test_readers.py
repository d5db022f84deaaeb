"""Each reader on a file made here: what text comes out, in which parts, and what a bad file says."""

from __future__ import annotations

import codecs

import pytest

from core.docs.errors import Unreadable
from core.docs.readers import Part, kind_of, reader_for
from core.docs.readers.html import parse
from core.docs.readers.markdown import split_sections
from core.docs.readers.text import decode
from tests.core.docs.documents import make_docx, make_pdf


def test_kinds_by_suffix(tmp_path):
    assert [kind_of(tmp_path / n) for n in ("a.PDF", "b.docx", "c.htm", "d.md", "e.txt", "f.doc", "g")] == [
        "pdf", "docx", "html", "markdown", "text", None, None]


def test_pdf_gives_one_part_per_page_with_text(tmp_path):
    path = make_pdf(tmp_path / "a.pdf", [["First page", "second line"], [], ["Third page"]])
    read = reader_for("pdf")(path)
    assert read.parts == (Part("First page\nsecond line", page=1), Part("Third page", page=3))


@pytest.mark.parametrize(("data", "reason"), [
    (b"%PDF-1.4 nothing more", "it is damaged or not a real PDF"),
    (b"", "it is damaged or not a real PDF"),
])
def test_damaged_pdf_is_unreadable_with_a_reason(tmp_path, data, reason):
    path = tmp_path / "bad.pdf"
    path.write_bytes(data)
    with pytest.raises(Unreadable) as caught:
        reader_for("pdf")(path)
    assert caught.value.reason == reason


def test_pdf_without_text_says_so(tmp_path):
    path = make_pdf(tmp_path / "scan.pdf", [[]])
    with pytest.raises(Unreadable, match="no text to read"):
        reader_for("pdf")(path)


def test_word_headings_start_sections_and_tables_become_rows(tmp_path):
    read = reader_for("docx")(make_docx(tmp_path / "h.docx", "The fact."))
    assert read.title == "Facilities handbook"
    assert [p.section for p in read.parts] == ["Facilities handbook", "Maintenance"]
    assert read.parts[1].text == "## Maintenance\nThe fact.\n- Check the filters\nRoom | Owner\nB9 | Ines"


def test_damaged_word_file_is_unreadable(tmp_path):
    path = tmp_path / "bad.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(Exception):  # noqa: B017 (the indexer turns any reader failure into a sentence)
        reader_for("docx")(path)


def test_html_keeps_visible_text_in_lines_and_sections():
    read = parse("<html><head><title>Guide\n to  it</title><style>p {}</style></head><body><p>Intro <b>bold</b>"
                 "</p><h2>Part <i>one</i></h2><ul><li>a <em>b</em></li><li>c</li></ul><pre>  x\n  y</pre>"
                 "<table><tr><th>k</th><td>v</td></tr></table><script>hidden()</script><p>【5†x】</p></body></html>")
    assert read.title == "Guide to it"
    assert [(p.section, p.text) for p in read.parts] == [
        (None, "Intro bold"),
        ("Part one", "## Part one\n- a b\n- c\n  x\n  y\nk | v\n【5†x】"),  # link marks are neutralised at layout
    ]


def test_html_declared_charset_is_honoured(tmp_path):
    path = tmp_path / "sjis.html"
    path.write_bytes(b'<html><head><meta charset="shift_jis"></head><body><p>' + "東京".encode("shift_jis")
                     + b"</p></body></html>")
    assert reader_for("html")(path).parts[0].text == "東京"


def test_markdown_sections_know_their_first_line():
    read = split_sections("preface\n# One\ntext\n```\n# not a heading\n```\n## Two ##\nmore")
    assert read.title == "One"
    assert [(p.section, p.first_line, p.text.split("\n")[0]) for p in read.parts] == [
        (None, 1, "preface"), ("One", 2, "# One"), ("Two", 7, "## Two ##")]


@pytest.mark.parametrize(("data", "text"), [
    ("héllo\r\nwörld".encode(), "héllo\nwörld"),
    (codecs.BOM_UTF8 + b"bom", "bom"),
    ("utf16 東京".encode("utf-16"), "utf16 東京"),
    ("café".encode("cp1252"), "café"),
])
def test_text_decoding(data, text):
    assert decode(data) == text


def test_binary_file_named_text_is_unreadable():
    with pytest.raises(Unreadable, match="binary data"):
        decode(b"\x89PNG\x00\x00\xff\xfe\xfa")
