"""The chat in the real window, with a scripted session standing in for the transformer (see
helpers.py): streamed Markdown answer, reasoning folded with its duration, stop within one
decode step, regenerate, edit and resend, instructions, export, history after a restart."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from desktop.workers.inference import InferenceWorker
from tests.desktop.helpers import ANSWER, REASONING, scripted_loader, wait_until


@pytest.fixture
def installed(store, tiny_checkpoint):
    store.import_folder(tiny_checkpoint, model_id="gpt-oss-20b", copy=False)
    return store


def scripted_window(make_window, step_seconds=0.0, sessions=None):
    window = make_window(InferenceWorker(load_fn=scripted_loader(step_seconds=step_seconds, sessions=sessions)))
    return window


def send(qtbot, window, text):
    wait_until(qtbot, lambda: window.loaded is not None)
    qtbot.keyClicks(window.composer.edit, text)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)


def test_answer_streams_with_folded_reasoning(qtbot, make_window, installed, settings):
    settings.temperature = 0.0
    settings.max_new_tokens = 400
    window = scripted_window(make_window)
    assert window.current_page() is window.chat_page
    send(qtbot, window, "Hello")
    wait_until(qtbot, lambda: not window.chat.busy)
    user, answer = window.transcript.views
    assert user.message.content == "Hello"
    assert answer.message.content == ANSWER and answer.message.status == "complete"
    assert answer.thinking.isVisible() and not answer.thinking.is_expanded()
    assert answer.thinking.text() == REASONING
    assert answer.thinking.title().startswith("Thought for")
    assert len(answer.body.code_blocks()) == 1 and answer.body.code_blocks()[0].code() == "print('hi')"
    assert "tokens/s" in window.status.speed_label.text()
    assert "of 8,192 tokens" in window.status.context_label.text()
    assert answer.regenerate_button.isVisible()
    # Saved as it completed, with every channel.
    (_saved_user, saved_answer) = window.history.messages(window.chat.conversation_id)
    assert saved_answer.reasoning == REASONING and saved_answer.content == ANSWER
    assert window.conversation_list.titles() == ["Hello"]


def test_stop_takes_effect_within_one_decode_step(qtbot, make_window, installed, settings):
    settings.temperature = 0.0
    settings.max_new_tokens = 400
    sessions = []
    window = scripted_window(make_window, step_seconds=0.05, sessions=sessions)
    send(qtbot, window, "Hello")
    wait_until(qtbot, lambda: len(window.transcript.views) == 2 and window.transcript.views[1].message.reasoning)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    steps_at_stop = sessions[0].decode_steps
    wait_until(qtbot, lambda: not window.chat.busy)
    assert sessions[0].decode_steps - steps_at_stop <= 1
    answer = window.transcript.views[1]
    assert answer.message.status == "stopped" and answer.note.text() == "You stopped this answer."
    assert window.history.messages(window.chat.conversation_id)[1].status == "stopped"
    assert window.composer.send_button.text() == "Send"


def test_regenerate_writes_the_last_answer_again_in_its_place(qtbot, make_window, installed, settings):
    # The earlier versions it keeps are test_chat_versions.py's.
    settings.temperature = 0.0
    settings.max_new_tokens = 400
    window = scripted_window(make_window)
    send(qtbot, window, "Hello")
    wait_until(qtbot, lambda: not window.chat.busy)
    window.transcript.views[1].regenerate_button.click()
    wait_until(qtbot, lambda: not window.chat.busy)
    messages = window.history.messages(window.chat.conversation_id)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[1].content == ANSWER and (messages[1].version, messages[1].versions) == (2, 2)
    assert len(window.transcript.views) == 2


def test_edit_and_resend_replaces_the_rest(qtbot, make_window, installed, settings):
    settings.temperature = 0.0
    settings.max_new_tokens = 400
    window = scripted_window(make_window)
    send(qtbot, window, "Hello")
    wait_until(qtbot, lambda: not window.chat.busy)
    window.transcript.views[0].edit_button.click()
    assert window.composer.text() == "Hello" and window.composer.edit_bar.isVisible()
    window.composer.edit.clear()
    qtbot.keyClicks(window.composer.edit, "Hi again")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    wait_until(qtbot, lambda: not window.chat.busy)
    messages = window.history.messages(window.chat.conversation_id)
    assert [(m.role, m.content) for m in messages] == [("user", "Hi again"), ("assistant", ANSWER)]
    assert window.composer.edit_bar.isHidden()


def test_escape_cancels_an_edit_and_leaves_the_message_alone(qtbot, make_window, installed, settings):
    settings.temperature = 0.0
    settings.max_new_tokens = 400
    window = scripted_window(make_window)
    send(qtbot, window, "Hello")
    wait_until(qtbot, lambda: not window.chat.busy)
    before = window.history.messages(window.chat.conversation_id)
    qtbot.keyClicks(window.composer.edit, "my next question")
    window.transcript.views[0].edit_button.click()
    assert window.composer.edit_bar.isVisible() and window.composer.text() == "Hello"
    qtbot.keyClicks(window.composer.edit, ", changed")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Escape)
    assert window.composer.edit_bar.isHidden() and window.composer.text() == "my next question"
    assert window.history.messages(window.chat.conversation_id) == before
    assert [v.message.content for v in window.transcript.views] == ["Hello", ANSWER]
    # What is sent next follows the conversation, replacing nothing.
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    wait_until(qtbot, lambda: not window.chat.busy)
    messages = window.history.messages(window.chat.conversation_id)
    assert [m.content for m in messages] == ["Hello", ANSWER, "my next question", ANSWER]


def test_history_is_there_after_a_restart(qtbot, make_window, installed, settings, tmp_path):
    settings.temperature = 0.0
    settings.max_new_tokens = 400
    window = scripted_window(make_window)
    send(qtbot, window, "Remember me")
    wait_until(qtbot, lambda: not window.chat.busy)
    window.close()
    again = scripted_window(make_window)
    assert again.conversation_list.titles() == ["Remember me"]
    again.conversation_list.list.setCurrentRow(0)
    assert [v.message.content for v in again.transcript.views] == ["Remember me", ANSWER]
    assert again.transcript.views[1].thinking.text() == REASONING


def test_keyboard_new_chat_and_search(qtbot, make_window, installed, settings):
    settings.temperature = 0.0
    settings.max_new_tokens = 400
    window = scripted_window(make_window)
    send(qtbot, window, "About bread")
    wait_until(qtbot, lambda: not window.chat.busy)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.chat.conversation_id is None and window.transcript.views == []
    send(qtbot, window, "About taxes")
    wait_until(qtbot, lambda: not window.chat.busy)
    assert window.conversation_list.titles() == ["About taxes", "About bread"]
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.conversation_list.search.hasFocus()
    qtbot.keyClicks(window.conversation_list.search, "bread")
    assert window.conversation_list.titles() == ["About bread"]


def test_instructions_reach_the_prompt_and_export_keeps_channels(qtbot, make_window, installed, settings,
                                                                 tmp_path, monkeypatch):
    settings.temperature = 0.0
    settings.max_new_tokens = 400
    sessions = []
    window = scripted_window(make_window, sessions=sessions)
    wait_until(qtbot, lambda: window.loaded is not None)
    cid = window.history.create_conversation("Pirate").id
    window.history.set_instructions(cid, "Talk like a pirate")
    window.conversations.refresh()
    window.chat.open_conversation(cid)
    send(qtbot, window, "Ahoy")
    wait_until(qtbot, lambda: not window.chat.busy)
    prompt = window.inference.worker._engine.tokenizer.decode(sessions[0].tokens)
    assert "Talk like a pirate" in prompt and "Ahoy" in prompt
    target = tmp_path / "chat.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "JSON"))
    window.export_button.click()
    data = json.loads(target.read_text())
    assert data["instructions"] == "Talk like a pirate"
    assert data["messages"][1]["channels"] == {"final": ANSWER, "analysis": REASONING}
    md = tmp_path / "chat.md"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(md), "Markdown (*.md)"))
    window.export_button.click()
    assert md.read_text().startswith("# Pirate") and "> **Thinking**" in md.read_text()
    assert window.status.currentMessage() == f"Saved “Pirate” to {md}"  # once: no word that it was saved
    window.chat.new_conversation()  # once: Export was offered for a chat with nothing in it
    assert not window.menu_bar.export_action.isEnabled() and not window.export_button.isEnabled()


def test_delete_conversation_asks_first(qtbot, make_window, installed, settings, monkeypatch):
    settings.temperature = 0.0
    settings.max_new_tokens = 400
    window = scripted_window(make_window)
    send(qtbot, window, "Delete me")
    wait_until(qtbot, lambda: not window.chat.busy)
    cid = window.chat.conversation_id
    answers = iter([False, True])
    monkeypatch.setattr(window.models, "confirm", lambda *_: next(answers))
    window.conversations.delete(cid)
    assert window.history.conversation(cid) is not None  # said no
    window.conversations.delete(cid)
    assert window.history.conversation(cid) is None and window.conversation_list.titles() == []
    assert window.transcript.views == []


def test_every_control_has_an_accessible_name(qtbot, make_window, installed):
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QPlainTextEdit

    window = scripted_window(make_window)
    wait_until(qtbot, lambda: window.loaded is not None)
    for page in ("Chat", "Models", "Hardware"):
        window.show_page(page)
        for kind in (QAbstractButton, QComboBox, QLineEdit, QPlainTextEdit):
            for control in window.current_page().findChildren(kind):
                if control.isVisibleTo(window) and not control.inherits("QScrollBar"):
                    name = control.accessibleName() or (control.text() if hasattr(control, "text") else "")
                    assert name, f"{type(control).__name__} {control.objectName()} on {page} has no name"
        # A label's text is what a screen reader says; a name set on it must not hide the text.
        from PySide6.QtWidgets import QLabel

        for label in window.current_page().findChildren(QLabel):
            if label.accessibleName() and label.text():
                assert label.text() in label.accessibleName(), f"{label.accessibleName()!r} hides {label.text()!r}"


def test_closing_mid_answer_asks_and_keeps_it_marked_as_cut_short(qtbot, make_window, installed, settings,
                                                                  monkeypatch):
    # It once closed without asking, and the answer was later labelled "You stopped this answer".
    settings.temperature = 0.0
    settings.max_new_tokens = 400
    window = scripted_window(make_window, step_seconds=0.05)
    send(qtbot, window, "Hello")
    wait_until(qtbot, lambda: window.chat.stream.answer is not None and window.chat.stream.answer.reasoning)
    cid = window.chat.conversation_id
    asked = []
    answers = iter([False, True])
    monkeypatch.setattr(window.models, "confirm", lambda question, detail: asked.append(question) or next(answers))
    window.close()  # said no: the answer goes on
    assert window.chat.busy and window.inference.thread.isRunning()
    window.close()
    assert asked == ["Close Hearth while an answer is being written?"] * 2
    (_user, answer) = window.history.messages(cid)
    assert answer.status == "interrupted" and answer.reasoning
    assert not window.inference.thread.isRunning()


def test_about_and_settings_open_from_the_menus(qtbot, make_window, monkeypatch):
    from desktop.widgets.about_dialog import AboutDialog
    from desktop.widgets.settings_dialog import SettingsDialog

    window = make_window()
    opened = []
    monkeypatch.setattr(AboutDialog, "exec", lambda self: opened.append(self.windowTitle()) or 0)
    monkeypatch.setattr(SettingsDialog, "exec", lambda self: opened.append(self.windowTitle()) or 0)
    window.menu_bar.about_action.trigger()
    next(a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "&Settings…").trigger()
    assert len(opened) == 2 and opened[1] == "Hearth settings"


def test_help_has_getting_started_and_the_keyboard_shortcuts(qtbot, make_window, monkeypatch):
    from desktop.widgets.help_dialog import HelpDialog

    window = make_window()
    shown = []
    monkeypatch.setattr(HelpDialog, "exec", lambda self: shown.append((self.windowTitle(), self.text.toPlainText()))
                        or 0)
    window.menu_bar.getting_started_action.trigger()
    window.menu_bar.shortcuts_action.trigger()  # once: Help held only About
    (title, text), (title2, keys) = shown
    assert title == "Getting started" and "View > Models" in text and "Esc" in text
    assert title2 == "Keyboard shortcuts" and "Shift+Enter" in keys and "Stop the answer being written" in keys
    # Every shortcut listed is one the window really has.
    menu_keys = {a.shortcut().toString() for m in window.menuBar().actions() for a in m.menu().actions()}
    assert window.menu_bar.new_chat_action.shortcut().toString() in keys and "Ctrl+2" in menu_keys


def test_dark_theme_from_the_view_menu_is_remembered(qtbot, make_window, settings):
    window = make_window()
    window.menu_bar.dark_action.trigger()
    assert settings.theme == "dark" and window.menu_bar.dark_action.isChecked()
    window.menu_bar.dark_action.trigger()
    assert settings.theme == "light"


def test_an_error_mid_answer_keeps_the_text_and_says_what_happened(qtbot, make_window, installed, settings):
    from core.errors import NotEnoughMemory
    from tests.desktop.helpers import ScriptedSession

    class FailingSession(ScriptedSession):
        def feed(self, token_ids):
            if self.decode_steps >= 20:
                raise NotEnoughMemory("The graphics card ran out of memory.")
            return super().feed(token_ids)

    real = scripted_loader()

    def load(request, progress, cancel):
        engine = real(request, progress, cancel)
        engine.session = FailingSession(engine.session.script)
        return engine

    settings.temperature = 0.0
    settings.max_new_tokens = 400
    window = make_window(InferenceWorker(load_fn=load))
    send(qtbot, window, "Hello")
    wait_until(qtbot, lambda: not window.chat.busy)
    (_user, answer) = window.history.messages(window.chat.conversation_id)
    assert answer.status == "error" and answer.reasoning  # what was written is kept
    assert window.banner.isVisible() and "ran out of memory" in window.banner.text()
    assert window.transcript.views[1].note.text() == "The graphics card ran out of memory."


def test_a_message_too_long_for_the_context_explains_what_to_do(qtbot, make_window, installed, settings):
    def tiny_context(request, progress, cancel):
        engine = scripted_loader()(request, progress, cancel)
        engine.session.max_tokens = 80
        return engine

    window = make_window(InferenceWorker(load_fn=tiny_context))
    send(qtbot, window, "word " * 200)
    wait_until(qtbot, lambda: not window.chat.busy)
    assert "too long" in window.banner.text() and "new chat" in window.banner.text().lower()
    (_user, answer) = window.history.messages(window.chat.conversation_id)
    assert answer.status == "error"


def test_renaming_in_the_list_is_saved(qtbot, make_window, installed, settings):
    settings.temperature = 0.0
    settings.max_new_tokens = 400
    window = scripted_window(make_window)
    send(qtbot, window, "Old title")
    wait_until(qtbot, lambda: not window.chat.busy)
    window.conversation_list.list.item(0).setText("Sourdough")
    assert window.history.conversation(window.chat.conversation_id).title == "Sourdough"
    assert window.conversation_list.titles() == ["Sourdough"]


def test_a_new_models_folder_and_offline_mode_apply_at_once(qtbot, make_window, settings, tmp_path,
                                                            tiny_checkpoint):
    from core.store.model_store import ModelStore

    other = ModelStore(tmp_path / "other", offline=True)
    other.import_folder(tiny_checkpoint, model_id="gpt-oss-20b", copy=False)
    window = make_window()
    assert window.switcher.installed() == []
    settings.models_dir = str(tmp_path / "other")
    settings.offline = True
    window.apply_settings()
    assert window.store.models_dir == tmp_path / "other" and window.store.offline
    assert window.switcher.installed() == ["gpt-oss-20b"]
    assert "Models are now kept in" in window.banner.text()


def test_instructions_button_on_a_new_chat_creates_it_and_saves_them(qtbot, make_window, monkeypatch):
    from desktop.widgets.instructions_dialog import InstructionsDialog

    def answer(dialog):
        dialog.edit.setPlainText("Answer in French")
        return 1

    monkeypatch.setattr(InstructionsDialog, "exec", answer)
    window = make_window()
    assert window.chat.conversation_id is None
    window.instructions_button.click()
    cid = window.chat.conversation_id
    assert cid is not None and window.history.conversation(cid).instructions == "Answer in French"
    window.composer.set_ready(True)
    qtbot.keyClicks(window.composer.edit, "Bonjour")
    window.composer.send_button.click()
    assert window.history.conversation(cid).title == "Bonjour"
    assert window.conversation_list.titles() == ["Bonjour"]


def test_after_a_crash_the_cut_answer_is_shown_as_such(qtbot, make_window, tmp_path):
    from desktop.history import History

    before = History(tmp_path / "history.sqlite3")
    cid = before.create_conversation("Crash").id
    before.add_message(cid, "user", "Tell me")
    cut = before.add_message(cid, "assistant", status="streaming")
    cut.content = "Once upon a"
    before.update_message(cut)  # the process dies here, without closing
    window = make_window()
    assert "closed while writing an answer" in window.banner.text()
    window.chat.open_conversation(cid)
    answer = window.transcript.views[1]
    assert answer.message.status == "interrupted" and answer.body.text() == "Once upon a"
    assert "cut short" in answer.note.text() and not answer.regenerate_button.isHidden()


def test_settings_ok_keeps_the_chats_reasoning_choice_unless_the_default_changed(qtbot, make_window, settings):
    window = make_window()
    window.composer.effort.set_effort("high")  # the person's choice for this chat
    window.apply_settings()  # Settings -> OK with the default untouched: once reset to "Think normally"
    assert window.composer.effort.effort() == "high"
    settings.reasoning_effort = "low"
    window.apply_settings()
    assert window.composer.effort.effort() == "low"


def test_the_context_figure_follows_the_chat_on_screen(qtbot, make_window, installed, settings):
    # It once stayed at the previous chat's value after switching, deleting or starting a chat.
    settings.max_new_tokens = 400
    window = scripted_window(make_window)
    send(qtbot, window, "Hello")
    wait_until(qtbot, lambda: not window.chat.busy)
    first = window.chat.conversation_id
    figure = window.status.context_label.text()
    assert figure.startswith("Context: ")
    window.chat.new_conversation()
    assert window.status.context_label.text() == "" and window.status.speed_label.text() == ""
    window.chat.open_conversation(first)
    assert window.status.context_label.text() == figure  # from the chat's last answer
    window.chat.delete_conversation(first)
    assert window.status.context_label.text() == ""
