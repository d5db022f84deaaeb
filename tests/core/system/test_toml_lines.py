"""Where each key of a TOML file is written: tables, arrays of tables, dotted, quoted and
inline keys, and values (multi-line strings, arrays over several lines, comments) that hold
text looking like a key but are not one."""

from __future__ import annotations

import tomllib

from core.system.toml_lines import key_lines

DOCUMENT = '''\
# A comment with [brackets] and key = "value" in it.
reason = """
offline = true (inside a string: not a key)
ends with quotes"\"""
literal = \'\'\'
[not.a.table]
\'\'\'
[downloads]
allowed = 5
"x y" . 'z' . "caf\\u00e9" = 1
[[mirrors.site]]
url = "https://example.invalid/]"
names = [
  "a", # a comment ]
  ["b", "c"],
  { d = 1 },
]
inline = { f = { g = 1 }, h = [1, 2] }
when = 1979-05-27 07:32:00Z
after = 2
[[mirrors.site]]
url = "second"
'''


def test_every_key_path_maps_to_the_line_that_first_names_it():
    tomllib.loads(DOCUMENT)  # the scan is only ever given text tomllib accepts
    assert key_lines(DOCUMENT) == {
        ("reason",): 2,
        ("literal",): 5,
        ("downloads",): 8,
        ("downloads", "allowed"): 9,
        ("downloads", "x y"): 10,
        ("downloads", "x y", "z"): 10,
        ("downloads", "x y", "z", "café"): 10,
        ("mirrors",): 11,
        ("mirrors", "site"): 11,
        ("mirrors", "site", "url"): 12,
        ("mirrors", "site", "names"): 13,
        ("mirrors", "site", "inline"): 18,
        ("mirrors", "site", "inline", "f"): 18,
        ("mirrors", "site", "inline", "f", "g"): 18,
        ("mirrors", "site", "inline", "h"): 18,
        ("mirrors", "site", "when"): 19,
        ("mirrors", "site", "after"): 20,
    }


def test_windows_line_ends_count_as_one_line_each():
    assert key_lines('a = 1\r\n\r\n[b]\r\nc = "x"\r\n') == {("a",): 1, ("b",): 3, ("b", "c"): 4}


def test_text_that_is_not_toml_gives_what_was_found_without_raising():
    assert key_lines("a = 1\nb = [1, 2\n") == {("a",): 1, ("b",): 2}
    assert key_lines("a = 1\n= 2\n") == {("a",): 1}
    assert key_lines("") == {}
