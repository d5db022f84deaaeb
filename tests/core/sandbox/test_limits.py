"""Limits check themselves with a sentence."""

from __future__ import annotations

import pytest

from core.sandbox.limits import SandboxLimits


@pytest.mark.parametrize("field, value", [("timeout_s", 0), ("memory_bytes", 1024), ("processes", 1),
                                          ("file_bytes", 10), ("output_chars", 10)])
def test_a_limit_too_small_to_work_is_refused(field, value):
    with pytest.raises(ValueError, match=r"^[A-Z]"):
        SandboxLimits(**{field: value})


def test_the_defaults_are_what_the_model_was_told():
    assert SandboxLimits().timeout_s == 120 and SandboxLimits().timeout_words() == "120 seconds"
