"""`hearth serve --tools browser,python` as a person runs it: real processes answering the official
openai client, the server running the model's built-in calls itself (a search, an open and a cited
answer over a documents folder; two Python calls sharing a variable) and the client getting the
answer only; and the policy refusing a tool before any model is loaded."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import openai
import pytest

from cli import exit_codes
from tests.processes import hearth, serving_url
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
        url, said = serving_url(process)
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
        url, _ = serving_url(process)
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
