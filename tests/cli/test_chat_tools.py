"""`hearth run/chat --tools browser,python` end to end: real tiny checkpoints scripted to search,
open and cite a fact planted in a documents folder, and to keep a Python variable between two
calls; each call and a short result shown dimmed; the tools' results checked in the prompt the
model read next; the cap on calls; Ctrl-C during a Python call; the policy refusing a tool."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli import exit_codes
from cli.main import main
from core.chat import generate as generate_module
from core.chat.builtin_tools import unavailable_tool_result
from tests.processes import read_until, spawn
from tests.scripted_tools import (
    CITED_ANSWER,
    FACT_VIEW,
    PYTHON_ANSWER,
    PYTHON_ROUNDS,
    SEARCH_FOREVER,
    SEARCH_ROUNDS,
    SLEEPING_CALL,
    index_documents,
    tokenizer,
    write_looping_model,
    write_round_model,
)

REPO = Path(__file__).resolve().parents[2]
GREEDY = ["--temperature", "0"]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory) -> str:
    return str(write_round_model(tmp_path_factory.mktemp("searcher"), SEARCH_ROUNDS))


@pytest.fixture(scope="module")
def coder(tmp_path_factory) -> str:
    return str(write_round_model(tmp_path_factory.mktemp("coder"), PYTHON_ROUNDS))


@pytest.fixture(scope="module")
def library_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("documents")
    return index_documents(root / "library", root / "folder")


@pytest.fixture
def prompts(monkeypatch) -> list[str]:
    """The text of every prompt the model is given, in order."""
    seen: list[str] = []
    real = generate_module.stream
    tok = tokenizer()

    def recording(session, tokenizer_, prompt, **options):
        seen.append(tok.decode(list(prompt)))
        return real(session, tokenizer_, prompt, **options)

    monkeypatch.setattr(generate_module, "stream", recording)
    return seen


@pytest.fixture
def documents(library_dir, monkeypatch) -> Path:
    monkeypatch.setenv("HEARTH_DOCS_DIR", str(library_dir))
    return library_dir


def test_run_searches_opens_and_cites_a_document(searcher, documents, prompts, capsys):
    assert main(["run", "--model", searcher, "--tools", "browser", "What torque does the bearing take?",
                 *GREEDY]) == exit_codes.OK
    out, err = capsys.readouterr()
    assert out == CITED_ANSWER + "\n"
    assert '[calling browser.search] {"query": "zephyr torque"}' in err
    assert "[result] [0] zephyr torque\n  L2:   * 【0†Pump maintenance†maintenance.md】 The zephyr bearing" in err
    assert '[calling browser.open] {"id":0}' in err and f"\n  {FACT_VIEW}" in err
    # Three steps, each prompt holding what the tools answered before it.
    assert len(prompts) == 3
    assert "# Tools\n\n## browser" in prompts[0]
    assert "<|start|>browser.search to=assistant<|channel|>analysis<|message|>[0] zephyr torque" in prompts[1]
    assert "【0†Pump maintenance†maintenance.md】" in prompts[1]
    assert "<|start|>browser.open to=assistant" in prompts[2] and FACT_VIEW in prompts[2]


def test_run_keeps_python_variables_between_calls(coder, prompts, capsys):
    assert main(["run", "--model", coder, "--tools", "python", "What is the secret?", *GREEDY]) == exit_codes.OK
    out, err = capsys.readouterr()
    assert out == PYTHON_ANSWER + "\n"
    assert "[calling python] secret = 6*7" in err and "[calling python] print(secret)" in err
    assert "[result] 42\n" in err  # the second call saw the first one's variable
    assert prompts[2].endswith("<|start|>python to=assistant<|channel|>analysis<|message|>42\n<|end|>"
                               "<|start|>assistant")


def test_run_json_prints_the_tool_events(coder, capsys):
    assert main(["run", "--model", coder, "--tools", "python", "Secret?", "--json", *GREEDY]) == exit_codes.OK
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    running = [e for e in events if e["type"] == "ToolRunning"]
    results = [e for e in events if e["type"] == "ToolResult"]
    assert [e["arguments"] for e in running] == ["secret = 6*7", "print(secret)"]
    assert results[1]["text"] == "42\n" and results[1]["ran"] and results[1]["seconds"] >= 0
    assert [e["type"] for e in events].count("Finished") == 1 and events[-1]["type"] == "Finished"


def test_chat_shows_each_call_and_result_dimmed_then_the_answer(searcher, documents, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("What torque?\n/reset\nAnd now?\n"))
    assert main(["chat", "--model", searcher, "--tools", "browser", *GREEDY]) == exit_codes.OK
    out = capsys.readouterr().out
    first = out.index("[calling browser.search]")
    assert first < out.index("[result]") < out.index("[calling browser.open]") < out.index(CITED_ANSWER)
    assert out.count(CITED_ANSWER) == 2 and out.count("[calling browser.open]") == 2


def test_a_builtin_call_without_tools_is_answered_not_available(searcher, prompts, capsys):
    assert main(["run", "--model", searcher, "What torque?", *GREEDY]) == exit_codes.OK
    out, err = capsys.readouterr()
    assert out == CITED_ANSWER + "\n"  # the script goes on whatever it is told
    assert f"[result] {unavailable_tool_result('browser.search')}" in err
    assert "# Tools" not in prompts[0] and unavailable_tool_result("browser.open") in prompts[2]


def test_calls_past_the_cap_end_the_answer(tmp_path, documents, capsys):
    looping = str(write_looping_model(tmp_path / "looping", SEARCH_FOREVER))
    assert main(["run", "--model", looping, "--tools", "browser", "Search for ever", "--json",
                 *GREEDY]) == exit_codes.OK
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    results = [e for e in events if e["type"] == "ToolResult"]
    assert [r["ran"] for r in results] == [True] * 8 + [False]
    assert "has used its 8 tool calls. Answer now with what you have." in results[-1]["text"]
    notices = [e["text"] for e in events if e["type"] == "Notice"]
    assert notices == ["The model kept calling tools after its limit of 8 calls for one answer; the answer ends here."]
    assert events[-1]["type"] == "Finished" and events[-1]["reason"] == "stop"


def test_the_policy_refuses_a_tool_plainly(coder, tmp_path, monkeypatch, capsys):
    policy = tmp_path / "policy.toml"
    policy.write_text('reason = "Set by ACME IT."\nbuiltin_tools = ["browser"]\n')
    monkeypatch.setenv("HEARTH_POLICY", str(policy))
    monkeypatch.setenv("HEARTH_DOCS_DIR", str(tmp_path / "library"))
    assert main(["run", "--model", coder, "--tools", "browser,python", "Hi", *GREEDY]) == exit_codes.REFUSED
    out, err = capsys.readouterr()
    assert out == "" and "Loaded" not in err  # refused before the model was loaded
    assert err.strip() == ("Not offering the model's tools: Running Python (the model's python tool) is turned off "
                           f"on this computer (allowed: browser). Locked by your organisation's policy ({policy}). "
                           "Set by ACME IT.")


def test_wrong_tool_options_are_usage_errors(coder, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["run", "--model", coder, "--tools", "browser,web", "Hi"])
    assert stop.value.code == exit_codes.USAGE
    assert "there is no built-in tool 'web'" in capsys.readouterr().err
    assert main(["run", "--model", "remote-model", "--server", "http://127.0.0.1:9/v1", "--tools", "python",
                 "Hi"]) == exit_codes.USAGE
    assert "--tools works with a model on this computer" in capsys.readouterr().err


# -- Ctrl-C during a Python call, as a person presses it ---------------------------------------

@pytest.fixture(scope="module")
def sleeper(tmp_path_factory) -> str:
    return str(write_round_model(tmp_path_factory.mktemp("sleeper"), (SLEEPING_CALL,)))


def _spawn(tmp_path: Path, *args: str) -> subprocess.Popen:
    policy = tmp_path / "policy.toml"
    policy.write_text("")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", "HEARTH_POLICY": str(policy)}
    return spawn([sys.executable, "-m", "cli.main", *args], cwd=REPO, env=env, text=True,
                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_ctrl_c_stops_a_running_python_call_and_the_answer_not_the_chat(sleeper, tmp_path):
    chat = _spawn(tmp_path, "chat", "--model", sleeper, "--tools", "python", *GREEDY)
    try:
        read_until(chat.stdout, "> ")
        chat.stdin.write("Sleep a minute\n")
        chat.stdin.flush()
        read_until(chat.stdout, '[calling python] __import__("time").sleep(60)')
        time.sleep(1.0)  # the worker is in the sleep
        pressed = time.monotonic()
        chat.send_signal(signal.SIGINT)
        stopped = read_until(chat.stdout, "(stopped)", limit=20)
        assert time.monotonic() - pressed < 10  # not the 60 s of the sleep
        assert "KeyboardInterrupt" in stopped
        read_until(chat.stdout, "> ")
        chat.stdin.write("/exit\n")
        chat.stdin.flush()
        assert chat.wait(timeout=30) == exit_codes.OK
    finally:
        chat.kill()


def test_ctrl_c_during_a_python_call_ends_run_with_130(sleeper, tmp_path):
    run = _spawn(tmp_path, "run", "--model", sleeper, "--tools", "python", "Sleep", *GREEDY)
    try:
        read_until(run.stderr, "[calling python]")
        time.sleep(1.0)
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=20) == exit_codes.STOPPED
    finally:
        run.kill()
