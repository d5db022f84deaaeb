"""An answer's tool calls as steps: built from the answer's pieces, titled in plain words, kept
in the answer's stats, shown folded like the reasoning."""

from __future__ import annotations

import json

from core.chat.answer import Call, Piece
from desktop.tool_steps import MAX_KEPT_OUTPUT, AnswerSteps, ToolStep, opened_title, step_input, step_title, steps_of
from desktop.widgets.tool_step_view import ToolStepView

VIEW = "[1] Boiler notes (file:///home/ana/Reports/notes.md)\n**viewing lines [0 - 3] of 3**\n\nL0: # Notes"


def search(query: str, state="done", output="") -> ToolStep:
    return ToolStep("browser.search", json.dumps({"query": query}), output, state)


def test_titles_say_what_each_call_does_and_did():
    assert step_title(search("boiler service", "writing")) == "Searching your documents for “boiler service”…"
    assert step_title(search("boiler service")) == "Searched your documents for “boiler service”"
    assert step_title(search("x" * 100)).endswith("x…”") and len(step_title(search("x" * 100))) < 100
    assert step_title(search("boiler", "stopped")) == "Searched your documents for “boiler” (stopped)"
    assert step_title(ToolStep("browser.open", '{"id": 0}', VIEW, "done")) == "Read “Boiler notes”"
    assert step_title(ToolStep("browser.open", '{"id": 0}', "Invalid link id `7`.", "done")) == "Opened a document"
    assert step_title(ToolStep("browser.open", "", state="running")) == "Opening a document…"
    find = ToolStep("browser.find", '{"pattern": "March"}', state="done")
    assert step_title(find) == "Looked for “March” in the document"
    assert step_title(ToolStep("python", "1+1", state="writing")) == "Writing Python…"
    assert step_title(ToolStep("python", "1+1", state="running")) == "Running Python…"
    assert step_title(ToolStep("python", "1+1", "2\n", "done")) == "Ran Python"
    assert step_title(ToolStep("python", "sleep()", state="stopped")) == "Python was stopped"
    assert step_title(ToolStep("browser.fetch", "{}", state="done")) == "Used browser.fetch"
    assert opened_title("[12] A (title) with brackets (file:///a.pdf#page=2)\n...") == "A (title) with brackets"


def test_what_the_call_sent_is_the_code_or_the_arguments():
    assert step_input(ToolStep("python", "import math\nmath.pi")) == "import math\nmath.pi"
    assert step_input(search("boiler")) == '{\n "query": "boiler"\n}'
    assert step_input(ToolStep("browser.open", "{not json")) == "{not json"


def test_steps_are_kept_in_the_stats_and_read_back_whatever_was_kept():
    steps = [search("boiler", output=VIEW), ToolStep("python", "print(1)", "x" * (MAX_KEPT_OUTPUT + 10), "done")]
    stats = {"reason": "stop", "tools": [s.to_dict() for s in steps]}
    back = steps_of(json.loads(json.dumps(stats)))
    assert back[0] == steps[0] and len(back[1].output) == MAX_KEPT_OUTPUT + 2
    assert steps_of({}) == [] and steps_of({"tools": "damaged"}) == []
    assert steps_of({"tools": [{"name": "python", "state": "odd"}, {"no": "name"}, 3]}) == [
        ToolStep("python", state="done")]


def test_the_answers_pieces_make_its_steps_and_function_calls_are_not_steps():
    calls = [Call("call_1", "browser.search", builtin=True)]
    steps = AnswerSteps()
    assert steps.add(Piece("call", "browser.search", 0), calls)
    calls[0].arguments = '{"query": "boi'
    steps.add(Piece("arguments", 'boi', 0), calls)
    assert steps.steps[0].state == "writing" and steps.steps[0].arguments == '{"query": "boi'
    calls[0].arguments = '{"query": "boiler"}'  # the complete call replaces what streamed
    steps.add(Piece("tool_running", "browser.search", 0), calls)
    assert steps.steps[0].state == "running" and steps.steps[0].arguments == '{"query": "boiler"}'
    steps.add(Piece("tool_result", VIEW, 0), calls)
    assert steps.steps[0].output == VIEW and steps.steps[0].state == "done"
    calls.append(Call("call_2", "get_weather"))
    assert not steps.add(Piece("call", "get_weather", 1), calls)
    calls.append(Call("call_3", "python", "while True: pass", builtin=True))
    steps.add(Piece("tool_running", "python", 2), calls)
    steps.end("cancelled")
    assert [s.state for s in steps.steps] == ["done", "stopped"]
    assert [d["name"] for d in steps.as_stats()] == ["browser.search", "python"]


def test_an_unanswered_call_of_a_finished_answer_is_not_left_running():
    calls = [Call("call_1", "python", "1+1", builtin=True)]
    steps = AnswerSteps()
    steps.add(Piece("call", "python", 0), calls)
    steps.end("stop")
    assert steps.steps[0].state == "done" and step_title(steps.steps[0]) == "Ran Python"


def test_a_step_is_folded_and_shows_the_code_and_the_output_unfolded(qtbot):
    view = ToolStepView(ToolStep("python", "import math\nprint(math.pi)", "3.141592653589793\n", "done"))
    qtbot.addWidget(view)
    view.show()
    assert view.toggle.text() == "Ran Python" and not view.body.isVisible()
    view.toggle.click()
    assert view.body.isVisible() and view.code.isVisible() and not view.call.isVisible()
    assert view.code.code() == "import math\nprint(math.pi)" and view.output.text() == "3.141592653589793"
    view.set_step(search("boiler", output=VIEW))
    assert view.toggle.text() == "Searched your documents for “boiler”"
    assert not view.code.isVisible() and view.call.text() == '{\n "query": "boiler"\n}'
    assert view.output.text() == VIEW
    view.set_step(ToolStep("python", "pass", "", "done"))
    assert view.output.text() == "(no output)"
    view.set_step(ToolStep("python", "pass", "", "running"))
    assert not view.output.isVisibleTo(view)
