"""Scripted models that use gpt-oss's built-in tools, and the documents folder they search, for the
end-to-end tests of the turn loop in the terminal, the server and the core.

A scripted model follows its script whatever the tools answer, so the calls are written to really
find the planted fact: `search` for words of it, `open` the first hit (link 0 of cursor 0), and an
answer citing the line the opened view shows it on (cursor 1, L3). The tests then check that the
tools' results reached the model's next prompt. Each round is one step of the turn (see
tests/scripted_checkpoint.py, `Rounds`).
"""

from __future__ import annotations

from pathlib import Path

from core.chat.tokenizer import Tokenizer, load_tokenizer, shipped_vocabulary
from core.engine.testing import tiny_config
from tests.scripted_checkpoint import script_rounds, script_transitions, write_scripted_checkpoint

FACT = "The zephyr bearing needs a torque of 42 Nm when it is fitted."
FACT_VIEW = f"L3: {FACT}"  # how the opened document shows it: cursor 1, line 3
CITED_ANSWER = "The zephyr bearing takes 42 Nm 【1†L3】."
SEARCH_ROUNDS = (
    '<|channel|>analysis to=browser.search code<|message|>{"query": "zephyr torque"}<|call|>',
    '<|channel|>analysis to=browser.open code<|message|>{"id":0}<|call|>',
    f"<|channel|>final<|message|>{CITED_ANSWER}<|return|>",
)
PYTHON_ANSWER = "The secret is 42."
PYTHON_ROUNDS = (
    "<|channel|>analysis to=python code<|message|>secret = 6*7<|call|>",
    "<|channel|>analysis to=python code<|message|>print(secret)<|call|>",  # only a live session knows it
    f"<|channel|>final<|message|>{PYTHON_ANSWER}<|return|>",
)
SLEEPING_CALL = '<|channel|>analysis to=python code<|message|>__import__("time").sleep(60)<|call|>'
SEARCH_FOREVER = '<|channel|>analysis to=browser.search code<|message|>{"query": "zephyr"}<|call|>'
WIDE = 128  # hidden size: room for the longer scripts (tests/scripted_checkpoint.py: one axis per token)


def tokenizer() -> Tokenizer:
    return load_tokenizer(shipped_vocabulary())


def write_round_model(folder: Path, rounds: tuple[str, ...]) -> Path:
    """A model that writes `rounds[k]` after `<|start|>assistant` when its context holds k calls."""
    tok = tokenizer()
    scripts = [[*tok.encode("assistant"), *tok.encode(text, allow_special=True)] for text in rounds]
    plain, by_round = script_rounds(scripts, marker=tok.call, reference=tok.encode("system")[0])
    return write_scripted_checkpoint(folder, plain, default=tok.encode(" blah")[0],
                                     config=tiny_config(vocab_size=201088, hidden_size=WIDE), rounds=by_round)


def write_looping_model(folder: Path, call: str) -> Path:
    """A model that makes the same call in every step, for ever (a plain bigram script)."""
    tok = tokenizer()
    script = [*tok.encode("assistant"), *tok.encode(call, allow_special=True)]
    return write_scripted_checkpoint(folder, script_transitions(script), default=tok.encode(" blah")[0],
                                     config=tiny_config(vocab_size=201088, hidden_size=WIDE))


def make_documents(folder: Path) -> Path:
    """A documents folder: the manual holding the fact, and a file that does not."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "maintenance.md").write_text(f"# Pump maintenance\n\n{FACT}\nCheck the seals every spring.\n",
                                           encoding="utf-8")
    (folder / "canteen.txt").write_text("Lunch is served at noon in the canteen.\n", encoding="utf-8")
    return folder


def index_documents(library_dir: Path, folder: Path) -> Path:
    """`folder` (made with `make_documents`) added to a library in `library_dir`."""
    from core.docs import Library

    Library(library_dir).add(make_documents(folder))
    return library_dir
