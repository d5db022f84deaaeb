"""Zero egress in the window: the status bar's count of blocked attempts follows the guard
(reported on the connecting thread, shown on the GUI thread), the log dialog lists them, and
offline mode in Settings switches the guard.

The guard here is a real `core.system.egress.EgressGuard` that is *not* installed as an audit hook
(hooks cannot be removed, and this pytest process runs every other test): an attempt is made
by calling its hook entry point, `audit`, as Python would before connect(2)."""

from __future__ import annotations

import socket
import threading

import pytest

from core.system.egress import EgressBlocked, EgressGuard
from core.system.policy import Policy
from desktop.widgets.egress_log_dialog import EgressLogDialog
from desktop.workers.inference import InferenceWorker
from tests.desktop.helpers import scripted_loader, wait_until


def attempt_from_another_thread(guard: EgressGuard, host: str = "192.0.2.1", port: int = 443) -> list:
    """What a download thread's connect would do; returns what the guard raised."""
    raised, seen_on = [], []
    guard.subscribe(lambda _attempt: seen_on.append(threading.current_thread()))

    def connect():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                guard.audit("socket.connect", (sock, (host, port)))
            except EgressBlocked as refusal:
                raised.append(refusal)

    thread = threading.Thread(target=connect, name="downloader")
    thread.start()
    thread.join()
    assert seen_on == [thread]  # the listener ran where the connection was tried, not in the GUI
    return raised


def test_blocked_attempts_are_counted_in_the_status_bar_and_listed(qtbot, make_window, settings):
    settings.offline = True
    guard = EgressGuard(offline=False)
    window = make_window(InferenceWorker(load_fn=scripted_loader()), guard=guard)
    assert guard.offline  # the window applied the person's offline setting
    button = window.status.egress_button
    assert button.isVisible() and button.text().startswith("0 blocked attempts since ")
    assert "Offline mode is on" in button.toolTip()

    assert len(attempt_from_another_thread(guard)) == 1
    wait_until(qtbot, lambda: button.text().startswith("1 blocked attempt since "))
    assert button.text() == guard.summary()  # offline: exactly the guard's line

    dialog = EgressLogDialog(window.egress, window)
    qtbot.addWidget(dialog)
    items = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert len(items) == 1 and "blocked connect to 192.0.2.1:443" in items[0]
    attempt_from_another_thread(guard, "198.51.100.7", 80)  # an open dialog follows along
    wait_until(qtbot, lambda: dialog.list.count() == 2)
    assert "198.51.100.7:80" in dialog.list.item(1).text() and dialog.summary.text().startswith("2 blocked")


def test_offline_mode_in_settings_switches_the_guard(qtbot, make_window, settings, store):
    settings.models_dir = str(store.models_dir)  # apply_settings keeps the test's folder
    guard = EgressGuard(offline=True)
    window = make_window(InferenceWorker(load_fn=scripted_loader()), guard=guard)
    assert not guard.offline  # settings say online, and no policy forces it
    assert "Offline mode is off" in window.status.egress_button.toolTip()
    assert window.status.egress_button.text() == f"Online · {guard.summary()}"
    settings.offline = True
    window.apply_settings()
    assert guard.offline and window.store.offline
    assert "Offline mode is on" in window.status.egress_button.toolTip()
    settings.offline = False
    window.apply_settings()
    assert not guard.offline and not window.store.offline
    # Online, an attempt is let through (and counted as such), not blocked.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        guard.audit("socket.connect", (sock, ("192.0.2.1", 443)))
    assert guard.outbound == 1 and guard.blocked == 0


@pytest.mark.parametrize("user_offline", [False, True])
def test_a_policy_that_forces_offline_keeps_the_guard_on(qtbot, make_window, settings, tmp_path, user_offline):
    from core.store.model_store import ModelStore

    policy = Policy(offline=True, reason="IT.", sources=(tmp_path / "policy.toml",))
    guard = EgressGuard(offline=True, locked_reason=policy.lock_reason("offline"))
    settings.offline, settings.models_dir = user_offline, str(tmp_path / "models")
    store = ModelStore(tmp_path / "models", offline=user_offline, policy=policy)
    window = make_window(InferenceWorker(load_fn=scripted_loader()), store_=store, guard=guard)
    window.apply_settings()
    assert guard.offline and window.store.offline
    assert not window.banner.isVisible()  # nothing tried to turn it off, so nothing was refused
