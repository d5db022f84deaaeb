"""Keeps the test machine's own organisation policy out of in-process tests.

`ModelStore()`, `hearth models` and `hearth chat` read `load_policy()`, which reads the machine's
file (`/etc/hearth/policy.toml`) and `HEARTH_POLICY`. A developer or CI machine that has either
would make download tests refuse, or move the models folder; so, for the tests of the
directories that import this fixture (their conftest.py does), neither exists unless a test
sets `HEARTH_POLICY` itself. Subprocess tests still see the real machine file.
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_machine_policy(tmp_path_factory, monkeypatch):
    missing = tmp_path_factory.getbasetemp() / "no-machine-policy.toml"
    monkeypatch.setattr("core.system.policy_file.default_policy_path", lambda: missing)
    monkeypatch.delenv("HEARTH_POLICY", raising=False)
