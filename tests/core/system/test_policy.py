"""What the policy means (core/system/policy.py): only the keys given are locked, each lock says
why, and which hosts stay on this machine. Reading the file: test_policy_file.py."""

from __future__ import annotations

import pytest

from core.system.policy import is_loopback_host
from core.system.policy_file import parse_policy


def test_only_the_keys_given_are_locked():
    policy = parse_policy('downloads = false\napi_server = "network"\n')
    assert policy.locked("downloads") and not policy.offline_forced
    assert not policy.locked("offline") and not policy.locked("api_server")
    assert policy.api_server_allowed
    policy.check_api_server("0.0.0.0")
    assert policy.lock_reason("downloads") == "Locked by your organisation's policy (policy.toml)."
    # Forced offline implies no downloads, and says why.
    offline = parse_policy("offline = true\n")
    assert not offline.downloads_allowed
    assert "which forces offline mode" in offline.lock_reason("downloads")
    with pytest.raises(KeyError):
        policy.locked("colour")


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("LOCALHOST.", True), ("app.localhost", True), ("::ffff:127.0.0.1", True),
    ("0.0.0.0", False), ("192.0.2.1", False), ("::", False), ("example.com", False), ("10.0.0.1", False),
])
def test_loopback_hosts(host, loopback):
    assert is_loopback_host(host) is loopback
