"""Core tests run without the test machine's organisation policy (see tests/policy_fixtures.py)."""

from tests.policy_fixtures import no_machine_policy  # noqa: F401  (an autouse fixture)
