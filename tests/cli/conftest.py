"""Terminal tests run without the test machine's organisation policy (tests/policy_fixtures.py),
and `cli.main.main()` called in this process does not install the egress guard.

Audit hooks cannot be removed: a real guard installed by one in-process test would stay in the
pytest process for every later test (and a test with HEARTH_OFFLINE=1 would leave it blocking).
In-process calls are recorded in `egress_calls` instead; tests that need the real guard run
`hearth` in a subprocess (tests/cli/test_policy_cli.py).
"""

from __future__ import annotations

import pytest

from tests.policy_fixtures import no_machine_policy  # noqa: F401  (an autouse fixture)


@pytest.fixture(autouse=True)
def egress_calls(monkeypatch) -> list[tuple]:
    """(policy, offline) for each `core.system.egress.install_for` call made in this process."""
    calls: list[tuple] = []
    monkeypatch.setattr("core.system.egress.install_for", lambda policy, offline: calls.append((policy, offline)))
    return calls
