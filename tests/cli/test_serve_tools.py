"""`hearth serve --tools browser,python` as a person runs it: real processes answering the official
openai client, the server running the model's built-in calls itself (a search, an open and a cited
answer over a documents folder; two Python calls sharing a variable) and the client getting the
answer only; and the policy refusing a tool before any model is loaded."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest

from cli import exit_codes
from tests.processes import spawn
from tests.scripted_tools import (
    CITED_ANSWER,
    PYTHON_ANSWER,
    PYTHON_ROUNDS,
    SEARCH_ROUNDS,
    index_documents,
    write_round_model,
)

ROOT = Path(__file__).resolve().parents[2]
QUESTION = [{"role": "user", "content": "What torque does the zephyr bearing take?"}]


def hearth(tmp_path: Path, *args: str, policy: str = "", **env: str) -> subprocess.Popen:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(policy)
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "HEARTH_POLICY": str(policy_file),
                   "HEARTH_MODELS_DIR": str(tmp_path / "models"), **env}
    environment.pop("HEARTH_API_KEY", None)
    return spawn([sys.executable, "-m", "cli.main", *args], cwd=tmp_path, env=environment,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_url(process: subprocess.Popen, seconds: float = 60) -> tuple[str, str]:
    """(the server's URL, the line that said it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if match := re.search(r"at (http://\S+/v1)", line):
            return match.group(1), line
        if process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"hearth serve did not start: {process.stderr.read()}")


def ask(url: str, model: str) -> tuple[str, object]:
    api = openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=60)
    answer = api.chat.completions.create(model=model, messages=QUESTION, temperature=0)
    streamed = api.chat.completions.create(model=model, messages=QUESTION, temperature=0, stream=True)
    deltas = [chunk.choices[0].delta for chunk in streamed if chunk.choices]
    assert not any(delta.tool_calls for delta in deltas)
    assert "".join(delta.content or "" for delta in deltas) == answer.choices[0].message.content
    return answer.choices[0].message.content, answer.choices[0].message


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == exit_codes.OK, err


def test_serve_runs_the_browser_and_answers_with_the_citation(tmp_path):
    model = write_round_model(tmp_path / "searcher", SEARCH_ROUNDS)
    library = index_documents(tmp_path / "library", tmp_path / "documents")
    process = hearth(tmp_path, "serve", "--model", str(model), "--port", "0", "--tools", "browser",
                     HEARTH_OFFLINE="1", HEARTH_DOCS_DIR=str(library))
    try:
        url, said = wait_for_url(process)
        assert "with the tools browser" in said
        content, message = ask(url, model.name)
        assert content == CITED_ANSWER and message.tool_calls is None
    finally:
        stop(process)


def test_serve_runs_two_python_calls_sharing_a_variable(tmp_path):
    model = write_round_model(tmp_path / "coder", PYTHON_ROUNDS)
    process = hearth(tmp_path, "serve", "--model", str(model), "--port", "0", "--tools", "python",
                     HEARTH_OFFLINE="1")
    try:
        url, _ = wait_for_url(process)
        content, message = ask(url, model.name)
        assert content == PYTHON_ANSWER and message.tool_calls is None
    finally:
        stop(process)


@pytest.mark.parametrize(("policy", "tools", "refusal"), [
    ('builtin_tools = ["browser"]\n', "python", "Running Python (the model's python tool) is turned off on this "
                                                "computer (allowed: browser)."),
    ("builtin_tools = []\n", "browser", "Searching your documents (the model's browser tool) is turned off"),
])
def test_the_policy_refuses_a_tool_before_loading(tmp_path, policy, tools, refusal):
    process = hearth(tmp_path, "serve", "--model", str(tmp_path / "no-model-needed"), "--port", "0",
                     "--tools", tools, policy=policy)
    out, err = process.communicate(timeout=60)
    assert process.returncode == exit_codes.REFUSED, err
    assert err.startswith(f"Not offering the model's tools: {refusal}") and out == ""
