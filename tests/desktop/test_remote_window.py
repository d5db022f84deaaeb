"""A model on a remote server in the window: listed in the Model menu under its server, loaded
(the worker asks the server whether it serves it), chatted with (the reasoning folded, the
answer streamed, stop, the history naming it), against Hearth's own server; a server that fails
on purpose (a refused key, a dropped stream) said in sentences with the partial answer kept;
the Servers dialog adding and removing servers and keeping keys in the keyring; the policy's
servers listed, others refused with its reason, local models hidden where the policy says so;
the egress view listing connections to the approved server apart from the blocked ones.

The servers are real HTTP servers on loopback: `hearth serve`'s own `ApiServer` answering with
a scripted engine session, and a tiny fake for the failures a real server cannot be made to do.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading

import pytest
from PySide6.QtCore import Qt

from core.remote import ApiKeys
from core.server.http import ServedModel
from core.store.model_store import ModelStore
from core.system.egress import EgressGuard
from core.system.policy_file import parse_policy
from core.system.server_url import ServerUrl
from desktop.remote_controller import RemoteController
from desktop.widgets.egress_log_dialog import EgressLogDialog
from desktop.widgets.servers_dialog import ServersDialog
from desktop.workers.inference import InferenceWorker
from tests.core.remote.fake_server import fake_server
from tests.core.remote.test_api_keys import MemoryKeyring
from tests.core.server.api_fixtures import ScriptedSession, running
from tests.desktop.helpers import tokenizer, wait_until

REPLY = ("<|channel|>analysis<|message|>The person greets me; greet back.<|end|>"
         "<|start|>assistant<|channel|>final<|message|>Hello from the server!<|return|>")


def remember(settings, *urls: str) -> None:
    settings.remote_servers = json.dumps([{"url": url, "api": "chat"} for url in urls])


def send(qtbot, window, text: str) -> None:
    qtbot.keyClicks(window.composer.edit, text)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)


@pytest.fixture
def hearth_server():
    tok = tokenizer()
    session = ScriptedSession(tok, REPLY, delay=0.01)
    with running(ServedModel("gpt-oss-120b", tok, session)) as server:
        yield server, session


def test_a_chat_with_a_model_on_hearths_own_server(qtbot, make_window, settings, hearth_server):
    server, session = hearth_server
    remember(settings, server.url)
    window = make_window(InferenceWorker())
    name = f"gpt-oss-120b on {ServerUrl.parse(server.url).netloc}"
    # Listed under its server; with no model on this computer, the first server model loads by itself.
    wait_until(qtbot, lambda: window.switcher.model_action(name) is not None)
    wait_until(qtbot, lambda: window.loaded is not None)
    assert window.loaded.model_id == name and settings.current_model == name
    assert window.switcher.button.text() == name
    assert window.status.model_label.text() == name and window.status.device_label.text() == ""
    assert not window.composer.tools.isVisibleTo(window)  # built-in tools run beside local models only

    window.composer.effort.set_effort("high")
    send(qtbot, window, "Hello there")
    wait_until(qtbot, lambda: not window.chat.busy and window.chat.conversation_id is not None)
    question, answer = window.history.messages(window.chat.conversation_id)
    assert question.content == "Hello there"
    assert answer.status == "complete" and answer.content == "Hello from the server!"
    assert answer.reasoning == "The person greets me; greet back."
    assert answer.model == name
    assert "Reasoning: high" in tokenizer().decode(session.prompts[-1])  # the effort reached the server
    view = window.transcript.views[-1]
    assert "Hello from the server!" in view.body.text()


def test_the_local_api_is_not_offered_on_a_server_model(qtbot, make_window, settings, hearth_server):
    server, _ = hearth_server
    remember(settings, server.url)
    window = make_window(InferenceWorker())
    wait_until(qtbot, lambda: window.loaded is not None)
    problems = []
    window.local_api.problem.connect(problems.append)
    window.local_api.action.trigger()
    wait_until(qtbot, lambda: problems)
    assert "serves models on this computer only" in problems[0]


def failing_server(answers: list):
    """/models lists one model; each chat request gets the next of `answers`."""
    def respond(handler, body):
        if handler.path.endswith("/models"):
            handler.json(200, {"object": "list", "data": [{"id": "gpt-oss-120b", "object": "model"}]})
        else:
            answers.pop(0)(handler)
    return fake_server(respond)


def chunk(**delta):
    return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


def test_a_server_that_fails_on_purpose_is_said_in_sentences(qtbot, make_window, settings):
    refused = lambda h: h.json(401, {"error": {"message": "Invalid API key", "type": "auth"}})  # noqa: E731
    dropped = lambda h: h.sse([chunk(reasoning_content="Counting."), chunk(content="One, two"),  # noqa: E731
                               chunk(content=", three")], done=False, cut_after=2)
    with failing_server([refused, dropped]) as server:
        remember(settings, server.url)
        window = make_window(InferenceWorker())
        wait_until(qtbot, lambda: window.loaded is not None)
        send(qtbot, window, "Count")
        wait_until(qtbot, lambda: not window.chat.busy and window.banner.isVisible())
        assert "needs an API key, and none was given" in window.banner.label.text()
        first = window.history.messages(window.chat.conversation_id)[-1]
        assert first.status == "error"

        send(qtbot, window, "Count again")
        wait_until(qtbot, lambda: not window.chat.busy
                   and len(window.history.messages(window.chat.conversation_id)) == 4)
        kept = window.history.messages(window.chat.conversation_id)[-1]
        assert kept.status == "error" and kept.content == "One, two"  # the partial answer stays, marked
        assert "was lost before the answer was complete" in kept.stats["error"]
        assert "was lost before the answer was complete" in window.banner.label.text()


def test_a_server_that_cannot_be_reached_says_so_in_the_menu(qtbot, make_window, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    remember(settings, f"http://127.0.0.1:{port}/v1")
    window = make_window(InferenceWorker())
    wait_until(qtbot, lambda: any(a.text() == "Cannot be reached" for a in window.switcher.menu.actions()))
    line = next(a for a in window.switcher.menu.actions() if a.text() == "Cannot be reached")
    assert not line.isEnabled() and "could not reach the server" in line.toolTip()
    assert window.loaded is None


def test_the_servers_dialog_adds_and_removes_servers_and_keeps_keys_in_the_keyring(qtbot, settings, hearth_server):
    server, _ = hearth_server
    keyring = MemoryKeyring()
    controller = RemoteController(settings, parse_policy(""), keys=ApiKeys(keyring))
    dialog = ServersDialog(controller)
    qtbot.addWidget(dialog)
    assert dialog.list.item(0).text() == "No server yet: add one below."

    dialog.address.setText("ftp://nowhere")
    dialog.add_button.click()
    assert dialog.problem.isVisibleTo(dialog) and "is not a server address" in dialog.problem.text()

    dialog.address.setText(server.url)
    dialog.key.setText("sk-secret")
    dialog.add_button.click()
    assert not dialog.problem.isVisibleTo(dialog) and dialog.key.text() == ""
    assert list(keyring.entries.values()) == ["sk-secret"]
    assert "sk-secret" not in settings.remote_servers  # never in the settings file
    wait_until(qtbot, lambda: "1 model: gpt-oss-120b" in dialog.list.item(0).text())

    dialog.list.setCurrentRow(0)
    dialog.remove_button.click()
    assert controller.entries() == [] and keyring.entries == {}
    assert dialog.list.item(0).text() == "No server yet: add one below."


def test_the_policys_servers_are_listed_others_refused_and_local_models_hidden(qtbot, make_window, settings,
                                                                                 tmp_path, two_models, hearth_server):
    server, _ = hearth_server
    policy = parse_policy(f'servers = ["{server.url}"]\nlocal_models = false\nreason = "Use the lab server."\n')
    store = ModelStore(two_models.models_dir, offline=True, policy=policy)
    settings.current_model = "gpt-oss-20b"  # installed, but models may not run here
    window = make_window(InferenceWorker(), store_=store)
    name = f"gpt-oss-120b on {ServerUrl.parse(server.url).netloc}"
    wait_until(qtbot, lambda: window.loaded is not None)
    assert window.loaded.model_id == name  # the server's model, not the installed one
    listed = [a.data() for a in window.switcher.menu.actions() if a.data()]
    assert listed == [name]  # the installed models are not offered
    assert "Manage models…" not in [a.text() for a in window.switcher.menu.actions()]

    entry = window.remote.entries()[0]
    assert entry.from_policy
    assert "only the administrator can remove it" in window.remote.remove(entry.url)
    refusal = window.remote.add("https://other.example/v1", "chat", "")
    assert "is not one your organisation approved" in refusal and "Use the lab server." in refusal


def test_the_egress_view_lists_the_approved_servers_connections_apart(qtbot, make_window, settings):
    settings.offline = True
    guard = EgressGuard(offline=True, resolve=lambda host, port: ["10.0.0.5"])
    guard.approve({("llm.example.internal", 443)})
    window = make_window(InferenceWorker(), guard=guard)
    assert "except to llm.example.internal:443 (approved by your organisation)" in window.status.egress_button.toolTip()

    def connect(address):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, contextlib.suppress(OSError):  # blocked
            guard.audit("socket.connect", (sock, address))

    for address in (("10.0.0.5", 443), ("192.0.2.1", 443)):
        thread = threading.Thread(target=connect, args=(address,))
        thread.start()
        thread.join()
    button = window.status.egress_button
    wait_until(qtbot, lambda: "1 connection to the approved server llm.example.internal:443" in button.text())
    assert button.text().startswith("1 blocked attempt since ")
    dialog = EgressLogDialog(window.egress, window)
    qtbot.addWidget(dialog)
    assert dialog.approved_list.isVisibleTo(dialog)
    approved = [dialog.approved_list.item(i).text() for i in range(dialog.approved_list.count())]
    blocked = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert len(approved) == 1 and "allowed connect to 10.0.0.5:443 (llm.example.internal:443)" in approved[0]
    assert len(blocked) == 1 and "blocked connect to 192.0.2.1:443" in blocked[0]


def test_the_server_model_used_last_loads_at_start_before_a_local_one(qtbot, make_window, settings, two_models,
                                                                       hearth_server):
    server, _ = hearth_server
    remember(settings, server.url)
    name = f"gpt-oss-120b on {ServerUrl.parse(server.url).netloc}"
    settings.current_model = name
    window = make_window(InferenceWorker())
    wait_until(qtbot, lambda: window.loaded is not None)
    assert window.loaded.model_id == name
    assert window.switcher.model_action("gpt-oss-20b").isEnabled()  # the local models stay listed beside it


def test_a_model_the_server_no_longer_serves_is_said_with_what_it_serves(qtbot, make_window, settings,
                                                                         hearth_server):
    server, _ = hearth_server
    remember(settings, server.url)
    settings.current_model = f"gpt-oss-20b on {ServerUrl.parse(server.url).netloc}"  # it serves the 120b only
    window = make_window(InferenceWorker())
    wait_until(qtbot, lambda: window.banner.isVisible() and "does not serve" in window.banner.label.text())
    assert "It serves gpt-oss-120b." in window.banner.label.text()
    assert window.loaded is None or window.loaded.model_id.startswith("gpt-oss-120b on ")


def test_stop_ends_a_server_answer_and_keeps_what_arrived(qtbot, make_window, settings):
    tok = tokenizer()
    long_reply = "<|channel|>final<|message|>" + "One more word, " * 300 + "done.<|return|>"
    session = ScriptedSession(tok, long_reply, delay=0.02)
    with running(ServedModel("gpt-oss-120b", tok, session)) as server:
        remember(settings, server.url)
        settings.max_new_tokens = 2000
        window = make_window(InferenceWorker())
        wait_until(qtbot, lambda: window.loaded is not None)
        send(qtbot, window, "Go on for a long time")
        stream = window.chat.stream
        wait_until(qtbot, lambda: stream.answer is not None and "One more word" in stream.answer.content)
        window.composer.send_button.click()  # the Send button is Stop now
        wait_until(qtbot, lambda: not window.chat.busy, timeout=10)
        answer = window.history.messages(window.chat.conversation_id)[-1]
        assert answer.status == "stopped" and answer.content.startswith("One more word")
        assert not answer.content.endswith("done.")


def test_offline_mode_does_not_ask_a_server_it_would_refuse(qtbot, make_window, settings):
    settings.offline = True
    remember(settings, "https://llm.example.internal/v1")
    guard = EgressGuard(offline=True)
    window = make_window(InferenceWorker(), guard=guard)
    line = next(a for a in window.switcher.menu.actions() if a.text() == "Cannot be reached")
    assert line.toolTip().startswith("Offline mode is on, so Hearth does not connect to llm.example.internal.")
    assert guard.blocked == 0  # nothing was even tried
