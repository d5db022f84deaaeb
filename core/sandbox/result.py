"""What the model reads back from a `python` call, worded as the reference tool words it
(openai/gpt-oss `gpt_oss/tools/python_docker`, its stateful Jupyter backend): the output, then
the last expression's value, then the traceback after the output's last line; the reference's
warning when there is nothing at all. And the sentences for what the reference has no words for:
a call stopped at the time limit, stopped by the person, or a worker that died.
"""

from __future__ import annotations

from core.sandbox.limits import SandboxLimits

NO_OUTPUT = "[WARN] No output available. Use print() to output anything to stdout to receive the output"
_RESTARTED = "the Python session was restarted, so earlier variables are gone."


def cell_text(output: str, value: str | None, error: str | None, limit_chars: int) -> str:
    text = output
    if value is not None:
        text += value if value.endswith("\n") else value + "\n"
    if error:
        text = f"{text.rstrip()}\n{error}" if text else error
    if not text.strip():
        return NO_OUTPUT
    return cut(text, limit_chars)


def cut(text: str, limit_chars: int) -> str:
    """`text` with its middle left out when longer than `limit_chars` (the start says what the
    code did first; the end holds the result and the traceback)."""
    if len(text) <= limit_chars:
        return text
    half = limit_chars // 2
    left_out = len(text) - 2 * half
    return f"{text[:half]}\n[... {left_out} characters of output left out ...]\n{text[-half:]}"


def timed_out(limits: SandboxLimits) -> str:
    return f"The code ran longer than {limits.timeout_words()} and was stopped; {_RESTARTED}"


def stopped() -> str:
    return f"The code was stopped before it finished; {_RESTARTED}"


def worker_died(exit_code: int | None) -> str:
    how = f" (exit code {exit_code})" if exit_code is not None else ""
    return (f"The Python process ended while running the code{how}, perhaps out of memory or by "
            f"os._exit(); {_RESTARTED}")


def unavailable(reason: str) -> str:
    return f"Error: Python is not available on this computer: {reason} Continue without it."
