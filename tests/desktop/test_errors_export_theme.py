"""Error sentences with next steps, conversation export, themes and font scaling."""

import json
from pathlib import Path

import pytest
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget

from core import errors
from core.chat.browser_tool import Citation
from desktop import theme
from desktop.chat_controller import prompt_messages, title_from
from desktop.errors import explain
from desktop.export import file_name, to_json, to_markdown
from desktop.history import Conversation, Message
from desktop.kept_citations import with_citations


def test_typed_errors_get_their_next_step():
    problem = explain(errors.DownloadFailed("The connection dropped 8 times."))
    assert problem.what == "The connection dropped 8 times." and "Resume" in problem.next_step
    assert "Settings" in explain(errors.OfflineMode("Offline mode is on.")).text()
    assert "Free some disk space" in explain(errors.DiskFull("The disk is full.")).text()
    assert explain(errors.Cancelled("Stopped.")).cancelled


def test_the_windows_advice_replaces_the_cores_and_does_not_repeat_it(tmp_path):
    from core.store.model_store import ModelStore

    with pytest.raises(errors.OfflineMode) as refused:
        ModelStore(tmp_path, offline=True).download("gpt-oss-20b")
    # The terminal shows the core's sentence with its own advice; the window its own advice instead.
    assert str(refused.value) == ("Offline mode is on, so Hearth downloads nothing. Turn offline mode off to download, "
                                  "or import the model from a folder.")
    assert explain(refused.value).text() == ("Offline mode is on, so Hearth downloads nothing: turn it off in "
                                             "Settings, or import the model from a folder.")
    full = errors.DiskFull("Copying the model needs 13.0 GiB of free disk space in /m, but only 1.0 GiB is free.",
                           advice="Free some space or choose another models folder.")
    assert explain(full).text() == ("Copying the model needs 13.0 GiB of free disk space in /m, but only 1.0 GiB is "
                                    "free. Free some disk space, or choose another models folder in Settings.")


def test_unexpected_errors_still_read_as_sentences():
    assert "ran out of memory" in explain(MemoryError()).text()
    assert "ran out of memory" in explain(RuntimeError("CUDA out of memory. Tried to allocate")).text()
    assert "may write" in explain(PermissionError(13, "Permission denied")).text()
    generic = explain(KeyError("x"))
    # The exception's class is for a bug report (Details), not the sentence.
    assert "KeyError" not in generic.text() and "saved" in generic.text() and "KeyError" in generic.details


CONVERSATION = Conversation(1, "Bread", "Be brief", 0.0)
MESSAGES = [Message(1, 1, "user", "How long to knead?"),
            Message(2, 1, "assistant", "About **10 minutes**.", reasoning="Typical dough.", reasoning_seconds=1.0),
            Message(3, 1, "user", "And rise?"),
            Message(4, 1, "assistant", "An hour", status="stopped")]


def test_markdown_export():
    text = to_markdown(CONVERSATION, MESSAGES)
    assert text.startswith("# Bread\n")
    assert "*Instructions:* Be brief" in text and "> Typical dough." in text
    assert "About **10 minutes**." in text and "*(stopped)*" in text


def test_json_export_keeps_every_channel():
    data = json.loads(to_json(CONVERSATION, MESSAGES))
    assert data["messages"][1]["channels"] == {"final": "About **10 minutes**.", "analysis": "Typical dough."}
    assert data["messages"][3]["status"] == "stopped" and data["instructions"] == "Be brief"


def test_exports_keep_citations_as_written_and_say_each_tool_call():
    steps = [{"name": "browser.search", "arguments": '{"query": "knead"}', "output": "# Search Results",
              "state": "done"}]
    cited = Message(2, 1, "assistant", "Ten minutes 【1†L3】.", stats={"tools": steps})
    text = to_markdown(CONVERSATION, [MESSAGES[0], cited])
    assert "> *Searched your documents for “knead”*\n\nTen minutes 【1†L3】.\n" in text
    data = json.loads(to_json(CONVERSATION, [MESSAGES[0], cited]))
    assert data["messages"][1]["channels"]["final"] == "Ten minutes 【1†L3】."
    assert data["messages"][1]["stats"]["tools"] == steps


def test_markdown_export_names_each_kept_citation_in_a_footnote_and_json_keeps_them():
    places = {(1, 3, 4): Citation(1, 3, 4, Path("/home/ana/Bread/knead.md"), "Kneading", None, 3, 4, None),
              (2, 9, 9): Citation(2, 9, 9, Path("/home/ana/Bread/oven.pdf"), "Oven", 12, None, None, None)}
    text = ("Ten minutes 【1†L3-L4】, hot oven 【2†L9】, made up 【7†L1】.\n\n```\nknead 【1†L3-L4】\n```\n"
            "Again 【1†L3-L4】.")
    cited = Message(2, 1, "assistant", text, stats=with_citations({}, text, lambda *mark: places.get(mark)))
    rise = "Rise it 【2†L9】."
    later = Message(4, 1, "assistant", rise, stats=with_citations({}, rise, lambda *mark: places.get(mark)))
    markdown = to_markdown(CONVERSATION, [MESSAGES[0], cited, MESSAGES[2], later])
    assert ("Ten minutes 【1†L3-L4】[^1], hot oven 【2†L9】[^2], made up 【7†L1】.\n\n```\nknead 【1†L3-L4】\n```\n"
            "Again 【1†L3-L4】[^1].\n") in markdown  # the model's words, each kept citation marked; code untouched
    assert "[^1]: knead.md, lines 3–4 (/home/ana/Bread/knead.md)\n[^2]: oven.pdf, page 12 (/home/ana/Bread/oven.pdf)" \
        in markdown
    assert "Rise it 【2†L9】[^2].\n" in markdown and markdown.count("[^2]:") == 1  # one note per place
    data = json.loads(to_json(CONVERSATION, [MESSAGES[0], cited]))
    assert data["messages"][1]["channels"]["final"] == text
    assert [c["path"] for c in data["messages"][1]["stats"]["citations"]] == ["/home/ana/Bread/knead.md",
                                                                            "/home/ana/Bread/oven.pdf"]


def test_export_file_names_are_safe():
    assert file_name("Taxes 2024/2025: what? <draft>") == "Taxes 2024 2025 what draft"
    assert file_name("...") == "Chat" and len(file_name("x" * 300)) == 80


def test_prompt_messages_and_titles():
    failed = Message(5, 1, "assistant", "", status="error", stats={"error": "boom"})
    chat = prompt_messages("Be brief", [*MESSAGES, failed])
    assert chat[0] == {"role": "system", "content": "Be brief"}
    assert [m["role"] for m in chat] == ["system", "user", "assistant", "user", "assistant"]
    assert chat[2]["reasoning"] == "Typical dough."
    assert title_from("  **Hello**   `world`\nagain ") == "Hello world again"
    assert len(title_from("word " * 40)) <= 48 and title_from("word " * 40).endswith("…")


def test_themes_switch_palette_and_stylesheet(qapp):
    theme.apply_theme(qapp, "dark")
    dark = qapp.palette().color(QPalette.ColorRole.Window).lightness()
    assert "dark theme" in qapp.styleSheet()
    theme.apply_theme(qapp, "light")
    assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > dark
    assert "light theme" in qapp.styleSheet()
    for name in ("light", "dark"):
        assert "font-size" not in theme.stylesheet(name)  # text follows the system font


@pytest.mark.parametrize("name", ["light", "dark"])
def test_a_disabled_primary_button_looks_greyed_out(qapp, name):
    """Downloads forbidden by policy grey the primary button out: its face must lose the accent."""
    stylesheet, palette = qapp.styleSheet(), qapp.palette()
    try:
        theme.apply_theme(qapp, name)
        faces = {}
        for enabled in (True, False):
            button = QPushButton("Download gpt-oss-20b")
            button.setObjectName("primaryButton")
            button.setEnabled(enabled)
            button.resize(button.sizeHint())
            image = button.grab().toImage()
            faces[enabled] = image.pixelColor(image.width() // 2, 3)  # above the text, inside the padding
        assert faces[True].hsvSaturation() > 150  # the theme's accent
        assert faces[False] != faces[True] and faces[False].hsvSaturation() < 40  # a grey
    finally:
        qapp.setStyleSheet(stylesheet)
        qapp.setPalette(palette)


def test_titles_scale_with_the_system_font(qapp):
    original = QApplication.font()
    try:
        for size in (10.0, 20.0):
            font = QFont(original)
            font.setPointSizeF(size)
            QApplication.setFont(font)
            root = QWidget()
            title = QLabel("Models", root)
            title.setObjectName("pageTitle")
            theme.scale_fonts(root)
            assert title.font().pointSizeF() == size * 1.5 and title.font().bold()
    finally:
        QApplication.setFont(original)
