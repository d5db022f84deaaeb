"""The "Local API for other apps" toggle on a tiny real model: it serves /v1/models on
127.0.0.1, follows a model switch, stops when turned off and when the window closes; a port in
use and the policy's refusal become sentences; plus the live tokens/s while an answer streams."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request

import pytest

from core.store.model_store import ModelStore
from core.system.policy import Policy
from desktop.workers.inference import InferenceWorker
from tests.desktop.helpers import scripted_loader, wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def served_models(url: str) -> list[str]:
    # The client closes its connection first, so the TIME_WAIT falls on the client's port.
    # core.server.http's own server_bind skips SO_REUSEADDR, so a server-side TIME_WAIT would keep
    # the port from being bound again for a minute after a model switch (reported to core/).
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request("GET", f"{parts.path}/models")
        response = connection.getresponse()
        assert response.status == 200
        return [m["id"] for m in json.load(response)["data"]]
    finally:
        connection.close()


def refused(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/models", timeout=5)
    except (urllib.error.URLError, ConnectionError):
        return True
    return False


@pytest.fixture
def two_models(store, tiny_checkpoint, tiny_checkpoint_b):
    store.import_folder(tiny_checkpoint, model_id="gpt-oss-20b", copy=False)
    store.import_folder(tiny_checkpoint_b, model_id="gpt-oss-120b", copy=False)
    return store


def test_the_toggle_serves_the_loaded_model_and_stops(qtbot, make_window, two_models, settings):
    settings.current_model, settings.api_port = "gpt-oss-20b", free_port()
    window = make_window()  # the real engine
    wait_until(qtbot, lambda: window.loaded is not None, timeout=60)
    api = window.local_api
    api.action.trigger()
    wait_until(qtbot, lambda: api.url is not None)
    url = api.url
    assert url == f"http://127.0.0.1:{settings.api_port}/v1"
    assert window.status.api_label.text() == f"API: {url}" and url in window.banner.text()
    assert served_models(url) == ["gpt-oss-20b"]

    window.use_model("gpt-oss-120b")  # the server follows the model the window switches to
    wait_until(qtbot, lambda: window.loaded is not None and window.loaded.model_id == "gpt-oss-120b", timeout=60)
    wait_until(qtbot, lambda: api.url is not None)
    assert served_models(url) == ["gpt-oss-120b"]

    api.action.trigger()  # off
    assert api.url is None and not window.status.api_label.isVisible()
    assert refused(url)

    api.action.trigger()  # on again, then the window closes: the server goes with it
    wait_until(qtbot, lambda: api.url is not None)
    assert served_models(url) == ["gpt-oss-120b"]
    window.shutdown()
    assert refused(url)


def test_a_port_in_use_is_explained_and_the_toggle_goes_off(qtbot, make_window, two_models, settings):
    settings.current_model = "gpt-oss-20b"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings.api_port = taken.getsockname()[1]
        window = make_window()
        wait_until(qtbot, lambda: window.loaded is not None, timeout=60)
        window.local_api.action.trigger()
        wait_until(qtbot, lambda: not window.local_api.action.isChecked())
    assert window.banner.isVisible()
    assert f"port {settings.api_port} is already used by another program" in window.banner.text()
    assert window.local_api.url is None and not window.status.api_label.isVisible()


def test_the_policy_turns_the_api_off(qtbot, make_window, tmp_path):
    policy = Policy(api_server="off", reason="ACME IT.", sources=(tmp_path / "policy.toml",))
    window = make_window(InferenceWorker(load_fn=scripted_loader()),
                         store_=ModelStore(tmp_path / "models", offline=True, policy=policy))
    action = window.local_api.action
    assert not action.isEnabled() and action.toolTip() == policy.lock_reason("api_server")


def test_a_policy_refusal_from_the_server_becomes_a_banner(qtbot, make_window, two_models, settings):
    # The window only asks for 127.0.0.1; a policy keeping the API on loopback refuses any other
    # host inside serve_in_background, and that refusal must read as a sentence.
    settings.current_model = "gpt-oss-20b"
    window = make_window()
    wait_until(qtbot, lambda: window.loaded is not None, timeout=60)
    api = window.local_api
    api.action.trigger()
    wait_until(qtbot, lambda: api.url is not None)
    api.request_start.emit("192.0.2.1", free_port(), Policy(api_server="loopback", reason="ACME IT."),
                           window.inference.worker.api_epoch())
    wait_until(qtbot, lambda: not api.action.isChecked())
    assert "may only listen on this computer" in window.banner.text() and "ACME IT." in window.banner.text()


def test_live_speed_shows_while_the_answer_streams(qtbot, make_window, two_models, settings):
    settings.temperature, settings.max_new_tokens = 0.0, 400
    window = make_window(InferenceWorker(load_fn=scripted_loader(step_seconds=0.01)))
    wait_until(qtbot, lambda: window.loaded is not None)
    window.status.speed_label.setText("99.0 tokens/s")  # the last answer's figure goes at once
    window.composer.send_requested.emit("Hello")
    assert window.chat.busy and window.status.speed_label.text() == ""
    seen = []
    wait_until(qtbot, lambda: window.chat.busy and "tokens/s" in window.status.speed_label.text()
               and not seen.append(window.status.speed_label.text()))
    live = float(seen[-1].split()[0])
    assert 5 < live < 150  # 10 ms per step: about 100 tokens/s, less the tokenizer's and Qt's time
    wait_until(qtbot, lambda: not window.chat.busy)
    assert window.status.speed_label.text().endswith("tokens/s")
