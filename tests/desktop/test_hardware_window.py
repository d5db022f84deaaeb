"""The Hardware page in the real window says what the model's Run Python may do on this computer:
the answer of the sandbox probe the Run Python switch uses (monkeypatched here), asked for when the
page shows and shared with the switch (whose lock keeps the policy's reason first)."""

from __future__ import annotations

from pathlib import Path

from core.sandbox import Isolation, SandboxUnavailable
from core.store.model_store import ModelStore
from core.system.policy import Policy
from desktop.widgets.hardware_panel import CHECKING_PYTHON
from tests.desktop.helpers import wait_until

LINUX = Isolation("namespace", ("user and network namespace (loopback only, down)", "seccomp filter (no sockets)",
                                "Landlock ABI 7 (writes only in the session folder, no TCP)"))


def python_switch(window):
    return window.composer.tools.boxes["python"]


def test_the_hardware_page_says_run_python_is_sandboxed(qtbot, make_window, monkeypatch):
    probes = []
    monkeypatch.setattr("desktop.tools_controller._probe", lambda: probes.append(1) or LINUX)
    window = make_window()
    shown = window.hardware_panel.python
    assert shown.text() == CHECKING_PYTHON and not probes  # nothing is started before someone asks
    window.show_page("Hardware")
    wait_until(qtbot, lambda: shown.text() != CHECKING_PYTHON)
    assert shown.text() == "Sandboxed — no network, and no access to your files outside its scratch folder."
    assert shown.toolTip() == LINUX.summary()  # the layers, for whoever wants them
    python_switch(window).click()  # the switch knows already: no second probe
    assert python_switch(window).isChecked() and probes == [1]


def test_the_hardware_page_says_why_run_python_is_unavailable(qtbot, make_window, monkeypatch):
    def refuse():
        raise SandboxUnavailable("Hearth knows no way to keep Python off the network on plan9.")

    monkeypatch.setattr("desktop.tools_controller._probe", refuse)
    window = make_window()
    window.show_page("Hardware")
    shown = window.hardware_panel.python
    wait_until(qtbot, lambda: shown.text() != CHECKING_PYTHON)
    assert shown.text() == ("Unavailable — Hearth could not cut the model's Python off from the network here, so it "
                            "never runs it. Hearth knows no way to keep Python off the network on plan9.")
    assert not python_switch(window).isEnabled()  # the switch says the same


def test_a_python_the_policy_forbids_keeps_the_policys_reason_on_the_switch(qtbot, make_window, monkeypatch,
                                                                            tmp_path):
    def refuse():
        raise SandboxUnavailable("Hearth knows no way to keep Python off the network on plan9.")

    monkeypatch.setattr("desktop.tools_controller._probe", refuse)
    policy = Policy(builtin_tools=frozenset({"browser"}), sources=(Path("/etc/hearth/policy.toml"),))
    window = make_window(store_=ModelStore(tmp_path / "m", offline=True, policy=policy))
    window.show_page("Hardware")
    shown = window.hardware_panel.python
    wait_until(qtbot, lambda: shown.text() != CHECKING_PYTHON)
    assert shown.text().startswith("Unavailable — ")
    assert "Locked by your organisation's policy" in python_switch(window).toolTip()
