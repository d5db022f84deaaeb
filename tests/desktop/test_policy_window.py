"""The organisation's policy in the window: locked settings shown disabled with the policy's
reason, a refused policy file announced at start, models outside the allowed list greyed out
and refused, and the reasoning display (hidden / collapsed / shown)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.store.model_store import ModelStore
from core.system.policy import Policy
from core.system.policy_file import read_policy
from desktop import export
from desktop.history import Conversation, Message
from desktop.widgets.message_view import MessageView
from desktop.widgets.settings_dialog import SettingsDialog
from desktop.workers.inference import InferenceWorker
from tests.desktop.helpers import ANSWER, REASONING, scripted_loader, wait_until

POLICY_FILE = Path("/etc/hearth/policy.toml")


def locked_policy(**values) -> Policy:
    return Policy(reason="Set by ACME IT (it-help@acme.example).", sources=(POLICY_FILE,), **values)


def test_locked_settings_are_disabled_show_the_policy_value_and_say_why(qtbot, settings, tmp_path):
    settings.offline, settings.models_dir, settings.reasoning_display = False, str(tmp_path / "mine"), "shown"
    policy = locked_policy(offline=True, models_dir=Path("/srv/hearth/models"), reasoning_display="hidden",
                           api_server="off")
    dialog = SettingsDialog(settings, "/default", None, policy)
    qtbot.addWidget(dialog)
    assert not dialog.offline.isEnabled() and dialog.offline.isChecked()
    assert not dialog.models_dir.isEnabled() and not dialog.browse.isEnabled()
    assert dialog.models_dir.text() == "/srv/hearth/models"
    assert not dialog.reasoning_display.isEnabled() and dialog.reasoning_display.currentData() == "hidden"
    assert not dialog.api_port.isEnabled()
    for setting in ("offline", "models_dir", "reasoning_display", "downloads", "api_server"):
        label = dialog.lock_labels[setting]
        assert "Locked by your organisation" in label.text() and "ACME IT" in label.text(), setting
        assert label.toolTip() == policy.lock_reason(setting)
    assert dialog.offline.toolTip() == policy.lock_reason("offline")
    assert "Turned off." in dialog.lock_labels["downloads"].text()
    # What the person may still choose stays enabled; saving keeps their own locked choices.
    assert dialog.theme.isEnabled() and dialog.temperature.isEnabled()
    dialog.theme.setCurrentIndex(1)
    dialog.save()
    assert settings.theme == "dark"
    assert (settings.offline, settings.models_dir, settings.reasoning_display) == (False, str(tmp_path / "mine"),
                                                                                     "shown")


def test_without_a_policy_nothing_is_locked(qtbot, settings):
    dialog = SettingsDialog(settings, "/default", None, Policy())
    qtbot.addWidget(dialog)
    assert dialog.lock_labels == {}
    assert all(w.isEnabled() for w in (dialog.offline, dialog.models_dir, dialog.reasoning_display, dialog.api_port))
    dialog.offline.setChecked(True)
    dialog.save()
    assert settings.offline is True


def test_a_bad_policy_file_is_announced_and_hearth_runs_most_restrictive(qtbot, make_window, tmp_path,
                                                                        tiny_checkpoint):
    path = tmp_path / "policy.toml"
    path.write_text('reason = "ACME"\noffline = "yes please"\n')
    policy = read_policy(path)
    store = ModelStore(tmp_path / "models", offline=True, policy=policy)
    store.import_folder(tiny_checkpoint, model_id="gpt-oss-20b", copy=False)
    window = make_window(InferenceWorker(load_fn=scripted_loader()), store_=store)
    banner = window.policy_banner
    assert banner.isVisible() and not banner.close_button.isVisible()
    assert "most restrictive mode" in banner.text() and "line 2" in banner.text() and str(path) in banner.text()
    # No model may be loaded, and the installed one is not even tried.
    qtbot.wait(200)
    assert window.loaded is None and window.loading is None
    assert not window.switcher.model_action("gpt-oss-20b").isEnabled()
    assert not window.local_api.action.isEnabled()


@pytest.fixture
def only_120b(tmp_path, tiny_checkpoint):
    store = ModelStore(tmp_path / "models", offline=True,
                       policy=locked_policy(allowed_models=frozenset({"gpt-oss-120b"})))
    store.import_folder(tiny_checkpoint, model_id="gpt-oss-20b", copy=False)
    return store


def test_a_model_outside_the_allowed_list_is_greyed_out_and_refused(qtbot, make_window, only_120b):
    window = make_window(InferenceWorker(load_fn=scripted_loader()), store_=only_120b)
    reason = only_120b.policy.lock_reason("allowed_models")
    action = window.switcher.model_action("gpt-oss-20b")
    assert not action.isEnabled() and action.toolTip() == reason and "not allowed" in action.text()
    card = window.models_panel.cards["gpt-oss-20b"]
    assert not card.buttons["use"].isEnabled() and card.buttons["use"].toolTip() == reason
    assert "not allowed on this computer" in card.state.text()
    # At start it was refused, not loaded; asking again (e.g. from the Models page) is refused too.
    assert window.loaded is None and window.loading is None
    window.banner.hide()
    window.use_model("gpt-oss-20b")
    assert window.loading is None and window.loaded is None
    assert window.banner.isVisible()
    assert "'gpt-oss-20b' is not allowed on this computer (allowed: gpt-oss-120b)" in window.banner.text()
    assert "ACME IT" in window.banner.text()


def test_downloads_turned_off_grey_out_the_download_button(qtbot, make_window, tmp_path):
    store = ModelStore(tmp_path / "models", offline=False, policy=locked_policy(downloads=False))
    window = make_window(InferenceWorker(load_fn=scripted_loader()), store_=store)
    reason = store.policy.lock_reason("downloads")
    button = window.models_panel.cards["gpt-oss-20b"].buttons["download"]
    assert not button.isEnabled() and button.toolTip() == reason
    # The first-launch screen (no model installed) offers the same download: greyed out too.
    assert window.current_page() is window.first_launch
    assert window.first_launch.download_button.text().startswith("Download gpt-oss")
    assert not window.first_launch.download_button.isEnabled()
    assert window.first_launch.download_button.toolTip() == reason
    assert window.first_launch.import_button.objectName() == "primaryButton"  # the way forward


def answer_with_reasoning() -> Message:
    return Message(id=2, conversation_id=1, role="assistant", content="Hi", reasoning="Let me think.",
                   reasoning_seconds=3.0)


@pytest.mark.parametrize(("display", "visible", "expanded"),
                         [("hidden", False, False), ("collapsed", True, False), ("shown", True, True)])
def test_reasoning_display(qtbot, display, visible, expanded):
    view = MessageView(answer_with_reasoning(), reasoning_display=display)
    qtbot.addWidget(view)
    assert (not view.thinking.isHidden()) == visible
    assert view.thinking.is_expanded() == expanded and (not view.thinking.body.isHidden()) == expanded
    view.set_reasoning_display("collapsed")  # a change in settings reaches messages already shown
    assert not view.thinking.isHidden() and not view.thinking.is_expanded()


def test_hidden_reasoning_is_left_out_of_exports():
    conversation = Conversation(id=1, title="t", instructions="", updated=0.0)
    messages = [answer_with_reasoning()]
    assert "Let me think." not in export.to_markdown(conversation, messages, include_reasoning=False)
    data = json.loads(export.to_json(conversation, messages, include_reasoning=False))
    assert data["messages"][0]["channels"] == {"final": "Hi"}
    assert "Let me think." in export.to_markdown(conversation, messages)


def send_and_wait(qtbot, window, text="Hello"):
    wait_until(qtbot, lambda: window.loaded is not None)
    window.composer.send_requested.emit(text)
    wait_until(qtbot, lambda: not window.chat.busy)
    return window.transcript.views[-1]


@pytest.mark.parametrize(("policy_display", "user_display", "visible", "expanded"),
                         [("hidden", "shown", False, False), (None, "collapsed", True, False),
                          (None, "shown", True, True)])
def test_the_window_applies_the_reasoning_display(qtbot, make_window, tmp_path, tiny_checkpoint, settings,
                                                   policy_display, user_display, visible, expanded):
    settings.temperature, settings.max_new_tokens, settings.reasoning_display = 0.0, 400, user_display
    store = ModelStore(tmp_path / "models", offline=True, policy=locked_policy(reasoning_display=policy_display))
    store.import_folder(tiny_checkpoint, model_id="gpt-oss-20b", copy=False)
    window = make_window(InferenceWorker(load_fn=scripted_loader()), store_=store)
    view = send_and_wait(qtbot, window)
    assert view.message.content == ANSWER and view.message.reasoning == REASONING  # kept for the model
    assert view.thinking.isVisible() == visible
    assert view.thinking.is_expanded() == expanded
