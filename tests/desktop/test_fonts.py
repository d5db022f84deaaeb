"""Text in any script shows as glyphs, not empty boxes: scripts/start installs fallback fonts
where the system has none for a script (desktop/system_libraries.py), and scripts/test does the
same on Debian/Ubuntu so that this test can see it."""

from __future__ import annotations

import subprocess

import pytest
from PySide6.QtGui import QFont, QTextLayout

from desktop import system_libraries

CHINESE = "你好，世界"
JAPANESE = "こんにちは"
KOREAN = "안녕하세요"


def glyph_ids(text: str, font: QFont) -> list[int]:
    layout = QTextLayout(text, font)
    layout.beginLayout()
    layout.createLine()
    layout.endLayout()
    return [g for run in layout.glyphRuns() for g in run.glyphIndexes()]


@pytest.mark.parametrize("text", [CHINESE, JAPANESE, KOREAN])
def test_cjk_text_is_drawn_with_real_glyphs(qtbot, text):
    if system_libraries.missing_fonts():
        pytest.skip("no fallback font is installed for this script (scripts/test installs one on Debian/Ubuntu)")
    ids = glyph_ids(text, QFont())
    assert ids and 0 not in ids, f"{text!r} would show as empty boxes (glyph 0) in the window's font"


def test_a_missing_fallback_font_is_named_for_the_start_script(monkeypatch):
    def fc_list(args, **kwargs):
        return subprocess.CompletedProcess(args, 0, stdout="" if args[1] == ":lang=zh" else "Some Font\n")

    monkeypatch.setattr(system_libraries.subprocess, "run", fc_list)
    assert system_libraries.missing_fonts() == ["fonts-wqy-microhei"]
