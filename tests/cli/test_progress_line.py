"""The terminal's progress line (cli/progress_line.py, as `hearth models` draws it): off a terminal
one line per tenth of the work plus the last one, messages on lines of their own; on a terminal
one line redrawn in place, ended by `close`."""

from __future__ import annotations

import io

from cli.models import ProgressBar
from core.store.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def step(done: int, phase: str = "downloading", message: str = "") -> Progress:
    return Progress("gpt-oss-20b", phase, "model.safetensors", done, 1000, done, 1000, 1e6, 10.0, message)


def test_off_a_terminal_one_line_per_tenth_and_messages_apart():
    log = io.StringIO()
    bar = ProgressBar(log)
    for done in range(0, 1000, 10):  # 100 reports
        bar(step(done, message="Retrying model.safetensors" if done == 500 else ""))
    bar(step(1000, "done"))
    bar.close()
    lines = log.getvalue().splitlines()
    assert lines.count("Retrying model.safetensors") == 1
    bars = [line for line in lines if line.startswith(("downloading", "done"))]
    assert len(bars) == 11 and bars[-1].startswith("done") and "100.0%" in bars[-1]


def test_on_a_terminal_the_line_is_redrawn_in_place():
    screen = Terminal()
    bar = ProgressBar(screen)
    for done in range(0, 1001, 100):
        bar(step(done))
    bar.close()
    text = screen.getvalue()
    assert text.count("\r") == 11 and text.count("\n") == 1 and text.endswith("\n")
