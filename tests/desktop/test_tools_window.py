"""The chat's built-in tools in the real window: the switches kept per chat, locked by the policy,
the library or the sandbox with the reason; and, with a scripted model answering in rounds (see
helpers.RoundsSession) through the core's turn loop, a search -> open -> cited answer (the steps
folded in the transcript, the citation a link that opens the document viewer at the cited line,
still after Hearth starts again, the text as the model wrote it, exports naming the file), a
two-call Python session, and Stop ending a running Python call."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from core.sandbox import SandboxUnavailable
from core.store.model_store import ModelStore
from core.system.policy import Policy
from desktop import export
from desktop.citations import SCHEME
from desktop.history import History
from desktop.workers.inference import InferenceWorker
from tests.desktop.helpers import rounds_loader, wait_until

FACT = "The zephyr bearing needs a torque of 42 Nm when it is fitted."
SEARCH_ROUNDS = [
    '<|channel|>analysis to=browser.search code<|message|>{"query": "zephyr torque"}<|call|>',
    '<|channel|>analysis to=browser.open code<|message|>{"id": 0}<|call|>',
    "<|channel|>final<|message|>It takes 42 Nm 【1†L3】.<|return|>",
]
PYTHON_ROUNDS = [
    "<|channel|>analysis to=python code<|message|>secret = 6*7<|call|>",
    "<|channel|>analysis to=python code<|message|>print(secret)<|call|>",  # only a live notebook knows it
    "<|channel|>final<|message|>The secret is 42.<|return|>",
]
SLEEPING_ROUNDS = [
    '<|channel|>analysis to=python code<|message|>__import__("time").sleep(60)<|call|>',
    "<|channel|>final<|message|>Done.<|return|>",
]


@pytest.fixture
def installed(store, tiny_checkpoint, settings):
    store.import_folder(tiny_checkpoint, model_id="gpt-oss-20b", copy=False)
    settings.temperature = 0.0
    settings.max_new_tokens = 400
    return store


@pytest.fixture
def documents(tmp_path) -> Path:
    folder = tmp_path / "Manuals"
    folder.mkdir()
    (folder / "maintenance.md").write_text(f"# Pump maintenance\n\n{FACT}\nCheck the seals every spring.\n",
                                           encoding="utf-8")
    (folder / "canteen.txt").write_text("Lunch is served at noon in the canteen.\n", encoding="utf-8")
    return folder


def tools_window(qtbot, make_window, rounds):
    window = make_window(InferenceWorker(load_fn=rounds_loader(rounds)))
    wait_until_ready(qtbot, window)
    return window


def wait_until_ready(qtbot, window) -> None:
    """The library is open (or known not to be): the switches show what they allow."""
    wait_until(qtbot, lambda: window.documents.library is not None or window.documents.unavailable)


def send(qtbot, window, text):
    wait_until(qtbot, lambda: window.loaded is not None)
    qtbot.keyClicks(window.composer.edit, text)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)


def switch(window, tool):
    return window.composer.tools.boxes[tool]


def test_the_switches_are_kept_per_chat_and_a_new_chat_starts_without_tools(qtbot, make_window, installed):
    window = tools_window(qtbot, make_window, ["<|channel|>final<|message|>Hi.<|return|>"])
    assert switch(window, "browser").isEnabled() and not switch(window, "browser").isChecked()
    switch(window, "browser").click()
    send(qtbot, window, "Hello")
    wait_until(qtbot, lambda: window.chat.conversation_id is not None and not window.chat.busy)
    first = window.chat.conversation_id
    assert window.history.tools(first) == ("browser",)  # written with the new chat
    window.new_chat()
    assert window.composer.tools.tools() == ()
    send(qtbot, window, "Again")
    wait_until(qtbot, lambda: window.chat.conversation_id not in (None, first) and not window.chat.busy)
    second = window.chat.conversation_id
    assert window.history.tools(second) == ()
    switch(window, "browser").click()  # on in an existing chat: saved at once
    assert window.history.tools(second) == ("browser",)
    switch(window, "browser").click()
    window.chat.open_conversation(first)
    assert window.composer.tools.tools() == ("browser",)
    window.chat.open_conversation(second)
    assert window.composer.tools.tools() == ()


def test_the_policy_locks_a_tool_and_says_why(qtbot, make_window, tmp_path):
    policy = Policy(builtin_tools=frozenset({"browser"}), sources=(Path("/etc/hearth/policy.toml"),))
    window = make_window(store_=ModelStore(tmp_path / "m", offline=True, policy=policy))
    wait_until_ready(qtbot, window)
    python = switch(window, "python")
    assert not python.isEnabled() and not python.isChecked() and switch(window, "browser").isEnabled()
    assert python.toolTip().startswith("Running Python (the model's python tool) is turned off on this computer")
    assert "Locked by your organisation's policy (/etc/hearth/policy.toml)" in python.toolTip()


def test_a_library_that_cannot_search_locks_search_my_documents(qtbot, make_window, monkeypatch):
    monkeypatch.setattr("core.docs.database.search_support", lambda: (False, False))
    window = make_window()
    wait_until_ready(qtbot, window)
    browser = switch(window, "browser")
    assert not browser.isEnabled() and "full-text search (FTS5)" in browser.toolTip()
    assert switch(window, "python").isEnabled()


def test_run_python_goes_off_and_says_why_where_nothing_can_isolate_it(qtbot, make_window, monkeypatch):
    def refuse():
        raise SandboxUnavailable("Hearth knows no way to keep Python off the network on plan9.")

    monkeypatch.setattr("desktop.tools_controller._probe", refuse)
    window = make_window()
    python = switch(window, "python")
    python.click()
    wait_until(qtbot, lambda: not python.isEnabled())
    assert not python.isChecked() and window.composer.tools.tools() == ()
    assert python.toolTip() == "Python cannot run here: Hearth knows no way to keep Python off the network on plan9."



def test_search_open_and_a_cited_answer_whose_citation_opens_the_file(qtbot, make_window, installed, documents,
                                                                      tmp_path):
    window = tools_window(qtbot, make_window, SEARCH_ROUNDS)
    window.documents.add(str(documents))
    wait_until(qtbot, lambda: window.documents.folders and not window.documents.busy)
    switch(window, "browser").click()
    send(qtbot, window, "What torque does the zephyr bearing need?")
    wait_until(qtbot, lambda: not window.chat.busy, timeout=60)
    answer = window.transcript.views[-1]
    assert answer.message.status == "complete", answer.message.stats
    assert answer.message.content == "It takes 42 Nm 【1†L3】."  # the text as the model wrote it
    titles = [view.toggle.text() for view in answer.steps]
    assert titles == ["Searched your documents for “zephyr torque”", "Read “Pump maintenance”"]
    assert not answer.steps[0].is_expanded()  # folded, like the reasoning
    assert "maintenance.md" in answer.steps[0].output.text() and f"L3: {FACT}" in answer.steps[1].output.text()
    label = answer.body.prose_labels()[0]
    assert "【maintenance.md, line 3】" in label.text() and label.citations[0].line == 3
    label.linkActivated.emit(f"{SCHEME}:0")
    viewer = window.tools.viewer
    assert viewer.isVisible() and viewer.highlighted_lines() == [FACT]  # the cited line, in Hearth's viewer
    viewer.close()
    # Kept: the steps and the citation with the answer, its text as written; exports name the file.
    cid = window.chat.conversation_id
    saved = window.history.messages(cid)[-1]
    assert [s["name"] for s in saved.stats["tools"]] == ["browser.search", "browser.open"]
    conversation = window.history.conversation(cid)
    markdown = export.to_markdown(conversation, window.history.messages(cid))
    assert "> *Searched your documents for “zephyr torque”*\n> *Read “Pump maintenance”*" in markdown
    cited = (documents / "maintenance.md").resolve()
    assert f"It takes 42 Nm 【1†L3】[^1].\n\n[^1]: maintenance.md, line 3 ({cited})" in markdown
    assert "【1†L3】" in export.to_json(conversation, window.history.messages(cid))
    # Hearth started again: a fresh history and window, no browser alive in it, and the link still opens.
    fresh = History(tmp_path / "history.sqlite3")
    assert fresh.messages(cid)[-1].content == "It takes 42 Nm 【1†L3】."
    restarted = make_window(history=fresh)
    wait_until_ready(qtbot, restarted)
    restarted.chat.open_conversation(cid)
    again = restarted.transcript.views[-1]
    assert restarted.tools.chat_tools.existing(cid) is None
    label = again.body.prose_labels()[0]
    assert len(again.steps) == 2 and "【maintenance.md, line 3】" in label.text()
    assert (label.citations[0].path, label.citations[0].line) == (cited, 3)
    label.linkActivated.emit(f"{SCHEME}:0")
    assert restarted.tools.viewer.highlighted_lines() == [FACT]


def test_a_two_call_python_session_keeps_its_variables(qtbot, make_window, installed):
    window = tools_window(qtbot, make_window, PYTHON_ROUNDS)
    switch(window, "python").click()
    wait_until(qtbot, lambda: window.tools.sandbox is not None, timeout=30)
    assert "no network" in switch(window, "python").toolTip()
    send(qtbot, window, "Work out the secret.")
    wait_until(qtbot, lambda: not window.chat.busy, timeout=60)
    answer = window.transcript.views[-1]
    assert answer.message.content == "The secret is 42."
    assert [view.toggle.text() for view in answer.steps] == ["Ran Python", "Ran Python"]
    assert answer.steps[0].code.code() == "secret = 6*7"
    assert answer.steps[1].output.text() == "42"  # only the same notebook knew `secret`


def test_stop_ends_a_running_python_call(qtbot, make_window, installed):
    window = tools_window(qtbot, make_window, SLEEPING_ROUNDS)
    switch(window, "python").click()
    send(qtbot, window, "Sleep.")
    wait_until(qtbot, lambda: window.transcript.views[-1].steps
               and window.transcript.views[-1].steps[0].step.state == "running", timeout=60)
    time.sleep(0.5)  # the worker is well into its sleep
    started = time.monotonic()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    wait_until(qtbot, lambda: not window.chat.busy, timeout=30)
    assert time.monotonic() - started < 10  # not the call's 60 seconds
    answer = window.transcript.views[-1]
    assert answer.message.status == "stopped"
    assert answer.steps[0].toggle.text() == "Python was stopped"
    assert window.history.messages(window.chat.conversation_id)[-1].stats["tools"][0]["state"] == "stopped"
