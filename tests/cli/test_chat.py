"""`hearth chat` and `hearth run` end to end on tiny scripted checkpoints (full harmony
vocabulary, real loader and engine): answers, JSON events, Ctrl-C, context overflow."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cli.chat import _print_answer, _progress, _show_chat_turn, _Style
from cli.main import main
from core.chat.events import Finished, MessageEnded, MessageStarted, Notice, PromptProgress, TextDelta, ToolCall
from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
from tests.processes import read_until, spawn
from tests.scripted_checkpoint import script_transitions, write_scripted_checkpoint

REPO = Path(__file__).resolve().parents[2]


def _scripted(folder: Path, answer: str) -> Path:
    tok = load_tokenizer(shipped_vocabulary())
    script = [tok.start, *tok.encode("assistant"), *tok.encode(answer, allow_special=True)]
    return write_scripted_checkpoint(folder, script_transitions(script), default=tok.encode(" blah")[0])


@pytest.fixture(scope="module")
def hello(tmp_path_factory) -> str:
    """Answers everything with "Hello world!"."""
    return str(_scripted(tmp_path_factory.mktemp("hello"), "<|channel|>final<|message|>Hello world!<|return|>"))


@pytest.fixture(scope="module")
def endless(tmp_path_factory) -> str:
    """Answers " word word word ..." and never stops by itself."""
    return str(_scripted(tmp_path_factory.mktemp("endless"), "<|channel|>final<|message|> word word"))


@pytest.fixture(scope="module")
def thinker(tmp_path_factory) -> str:
    """Thinks " hmm hmm ..." and never answers by itself (as random weights do)."""
    return str(_scripted(tmp_path_factory.mktemp("thinker"), "<|channel|>analysis<|message|> hmm hmm"))


GREEDY = ["--temperature", "0"]


def test_run_prints_the_answer_on_stdout(hello, capsys):
    assert main(["run", "--model", hello, "Hi there", *GREEDY]) == 0
    out, err = capsys.readouterr()
    assert out == "Hello world!\n"
    assert "Loaded" in err and "7 tokens" in err


def test_run_json_prints_every_event(hello, capsys):
    assert main(["run", "--model", hello, "Hi", "--json", *GREEDY]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(e["type"] == "Speed" and e["tokens_per_second"] > 0 for e in lines)  # the core's live figure
    events = [e for e in lines if e["type"] != "Speed"]
    assert [e["type"] for e in events] == ["MessageStarted", "TextDelta", "TextDelta", "TextDelta",
                                           "MessageEnded", "TurnEnded", "Finished"]
    assert events[-1]["reason"] == "stop" and events[-1]["generated_tokens"] == 7
    assert events[4]["text"] == "Hello world!"


def test_run_reads_the_prompt_from_stdin(hello, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("A long question\nover two lines\n"))
    assert main(["run", "--model", hello, "-", *GREEDY]) == 0
    assert capsys.readouterr().out == "Hello world!\n"


def test_run_stops_at_the_length_limit(endless, capsys):
    assert main(["run", "--model", endless, "Talk", "--max-tokens", "8", *GREEDY]) == 0
    assert capsys.readouterr().out == " word word word word word\n"


def test_run_with_a_message_too_long_for_the_context(hello, capsys):
    assert main(["run", "--model", hello, "word " * 400, "--context", "200", *GREEDY]) == 1
    assert "The message is too long for this model" in capsys.readouterr().err


def test_run_with_a_missing_model(tmp_path, capsys):
    assert main(["run", "--model", str(tmp_path / "nothing"), "Hi"]) == 1
    err = capsys.readouterr().err
    assert str(tmp_path / "nothing") in err and "Traceback" not in err


def test_run_when_memory_is_short_says_how_to_load_anyway(hello, capsys, monkeypatch):
    from collections import namedtuple

    fake = namedtuple("vm", "total available")(64 * 2**30, 1024)
    monkeypatch.setattr("core.engine.model.psutil.virtual_memory", lambda: fake)
    assert main(["run", "--model", hello, "Hi there", *GREEDY]) == 1
    err = capsys.readouterr().err
    assert "is free right now" in err and "add --load-anyway" in err
    assert main(["run", "--model", hello, "Hi there", "--load-anyway", *GREEDY]) == 0


def test_a_reasoning_budget_makes_a_thinker_answer(thinker, capsys):
    assert main(["run", "--model", thinker, "Hi", "--max-tokens", "30", *GREEDY]) == 0
    assert capsys.readouterr().out.strip() == ""  # thought to the end of its tokens, answered nothing
    assert main(["run", "--model", thinker, "Hi", "--max-tokens", "30", "--reasoning-budget", "5", *GREEDY]) == 0
    assert "hmm" in capsys.readouterr().out


def test_bad_option_is_a_usage_error(hello):
    with pytest.raises(SystemExit) as stop:
        main(["run", "--model", hello, "Hi", "--reasoning", "maximal"])
    assert stop.value.code == 2


def test_chat_turns_reset_and_overflow(hello, capsys, monkeypatch):
    typed = "Hi\nAgain\n" + "word " * 400 + "\n/reset\nFresh start\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    assert main(["chat", "--model", hello, "--system", "Be brief.", "--context", "300", *GREEDY]) == 0
    out = capsys.readouterr().out
    assert out.count("Hello world!") == 3
    assert "The message is too long for this model" in out  # said, and the chat went on
    assert "(new chat)" in out
    figures = [line for line in out.splitlines() if line.startswith("(7 tokens")]
    assert len(figures) == 3 and "(0 reused" not in figures[1]  # the second turn reused the cache


def test_chat_slash_commands_are_not_sent_to_the_model(hello, capsys, monkeypatch):
    # "/help" once went to the model as a message.
    typed = "/help\n/effort high\n/effort extreme\n/nonsense\n//etc is a folder\n/quit\nnever read\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    assert main(["chat", "--model", hello, *GREEDY]) == 0
    out = capsys.readouterr().out
    assert "/effort [LEVEL]" in out and "(reasoning effort: high)" in out
    assert "low, medium or high, not 'extreme'" in out and "/nonsense is not a command" in out
    assert out.count("Hello world!") == 1  # only "/etc is a folder" reached the model


def test_reasoning_goes_to_stderr_and_the_answer_to_stdout(capsys):
    events = [MessageStarted("analysis"), TextDelta("analysis", "Let me think."), MessageEnded("analysis", "x"),
              MessageStarted("final"), TextDelta("final", "42"), Notice("Old turns were left out."),
              ToolCall("functions.search", "{}"),
              Finished("stop", 10, 0, 5, 100.0, 10.0, 0.5)]
    done = _print_answer(iter(events), _Style(io.StringIO()))
    out, err = capsys.readouterr()
    assert done.reason == "stop"
    assert out == "42\n"
    assert "[thinking]" in err and "Let me think." in err and "Old turns were left out." in err
    assert "search" in err and "5 tokens" in err


def _spawn(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    return spawn([sys.executable, "-m", "cli.main", *args], cwd=REPO, env=env, text=True,
                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_ctrl_c_stops_the_answer_not_the_chat(endless):
    chat = _spawn("chat", "--model", endless, *GREEDY)
    try:
        read_until(chat.stdout, "> ")
        chat.stdin.write("Talk to me\n")
        chat.stdin.flush()
        read_until(chat.stdout, "word word")
        chat.send_signal(signal.SIGINT)
        read_until(chat.stdout, "(stopped)")
        figures = read_until(chat.stdout, "> ")  # then asks for the next message
        assert "tokens/s" in figures
        chat.stdin.write("/exit\n")
        chat.stdin.flush()
        assert chat.wait(timeout=30) == 0
    finally:
        chat.kill()


def test_ctrl_c_during_run_keeps_the_partial_answer(endless):
    run = _spawn("run", "--model", endless, "Talk", *GREEDY)
    try:
        read_until(run.stdout, "word word")
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=30) == 130
        assert run.stdout.read().endswith("\n")
    finally:
        run.kill()


def test_chat_shows_reasoning_labelled_then_the_answer(capsys):
    events = [MessageStarted("analysis"), TextDelta("analysis", "Hmm."), MessageEnded("analysis", "Hmm."),
              MessageStarted("commentary", "functions.lookup"), TextDelta("commentary", "{}", "functions.lookup"),
              MessageStarted("final"), TextDelta("final", "Yes."), Notice("Old turns were left out."),
              Finished("cancelled", 10, 0, 5, 100.0, 10.0, 0.5)]
    _show_chat_turn(iter(events), _Style(io.StringIO()))
    out = capsys.readouterr().out
    assert out.index("[thinking]") < out.index("Hmm.") < out.index("[calling lookup]") \
        < out.index("[answer]") < out.index("Yes.")
    assert "(Old turns were left out.)" in out and "(stopped)" in out and "5 tokens" in out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_on_a_terminal_only(monkeypatch):
    terminal = _Terminal()
    monkeypatch.delenv("NO_COLOR", raising=False)
    _progress(PromptProgress(256, 1024), _Style(terminal), terminal)
    _progress(PromptProgress(1024, 1024), _Style(terminal), terminal)
    assert "(reading the conversation: 25%)" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r\x1b[K")  # erased once done
    piped = io.StringIO()
    _progress(PromptProgress(256, 1024), _Style(piped), piped)
    assert piped.getvalue() == ""


PET = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 10},
                                        "kind": {"enum": ["cat", "dog"]}},
       "required": ["name", "kind"], "additionalProperties": False}


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory) -> str:
    from core.engine.testing import tiny_config, write_checkpoint

    return str(write_checkpoint(tmp_path_factory.mktemp("random"), tiny_config(vocab_size=201088), seed=5))


@pytest.mark.parametrize("seed", ["1", "2"])
def test_run_json_schema_prints_one_valid_json_document(random_weights, tmp_path, capsys, seed):
    import jsonschema

    schema = tmp_path / "pet.json"
    schema.write_text(json.dumps(PET))
    assert main(["run", "--model", random_weights, "--json-schema", str(schema), "--reasoning-budget", "6",
                 "--max-tokens", "400", "--seed", seed, "Describe a pet"]) == 0
    out, _ = capsys.readouterr()
    jsonschema.validate(json.loads(out), PET)  # random weights: only the constraint makes this valid


def test_run_json_schema_refuses_what_it_cannot_use(random_weights, tmp_path, capsys):
    broken, unenforceable = tmp_path / "broken.json", tmp_path / "not.json"
    broken.write_text('{"type": "object",')
    unenforceable.write_text('{"type": "object", "not": {"required": ["a"]}}')
    for path, said in ((tmp_path / "absent.json", "cannot be read, because it does not exist"),
                       (broken, "is not valid JSON"),
                       (unenforceable, 'cannot be enforced: Unimplemented keys: ["not"]')):
        assert main(["run", "--model", random_weights, "--json-schema", str(path), "Hi"]) == 2
        assert said in capsys.readouterr().err
    cut = tmp_path / "pet.json"
    cut.write_text(json.dumps(PET))
    assert main(["run", "--model", random_weights, "--json-schema", str(cut), "--max-tokens", "5", "Hi"]) == 1
    assert "cut off before its JSON was complete" in capsys.readouterr().err
