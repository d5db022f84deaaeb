"""What the model reads back: the reference's order and warning, the middle cut with a note, and
the restart sentences."""

from __future__ import annotations

from core.sandbox.limits import SandboxLimits
from core.sandbox.result import NO_OUTPUT, cell_text, cut, timed_out, worker_died


def test_output_then_value_then_traceback():
    assert cell_text("hi\n", "42", None, 1000) == "hi\n42\n"
    assert cell_text("hi\n\n", None, "Traceback ...\nNameError: x", 1000) == "hi\nTraceback ...\nNameError: x"
    assert cell_text("", None, "SystemExit: 1", 1000) == "SystemExit: 1"


def test_nothing_at_all_is_the_reference_warning():
    assert cell_text("", None, None, 1000) == NO_OUTPUT
    assert cell_text("  \n", None, None, 1000) == NO_OUTPUT
    assert NO_OUTPUT.startswith("[WARN] No output available.")


def test_long_text_loses_its_middle_and_says_how_much():
    text = "a" * 600 + "b" * 600
    shown = cut(text, 400)
    assert shown.startswith("a" * 200) and shown.endswith("b" * 200)
    assert "[... 800 characters of output left out ...]" in shown
    assert cut("short", 400) == "short"


def test_the_time_limit_sentence():
    assert timed_out(SandboxLimits()) == ("The code ran longer than 120 seconds and was stopped; the Python session "
                                          "was restarted, so earlier variables are gone.")
    assert "longer than 2.5 seconds" in timed_out(SandboxLimits(timeout_s=2.5))


def test_a_dead_worker_names_its_exit_code():
    assert "(exit code 3)" in worker_died(3) and "restarted" in worker_died(None)
