"""The chat's tool switches: on and off without noise, locked with the reason, hints."""

from __future__ import annotations

from desktop.widgets.tool_switches import HINTS, ToolSwitches


def test_the_switches_say_what_is_on_and_show_a_chats_choice_silently(qtbot):
    switches = ToolSwitches()
    qtbot.addWidget(switches)
    assert [box.text() for box in switches.boxes.values()] == ["Search my documents", "Run Python"]
    assert switches.tools() == ()
    said = []
    switches.toggled.connect(lambda tool, on: said.append((tool, on)))
    switches.boxes["python"].click()
    switches.boxes["browser"].click()
    assert said == [("python", True), ("browser", True)]
    assert switches.tools() == ("browser", "python")  # the canonical order, whatever the clicks
    switches.set_tools(("python",))
    assert switches.tools() == ("python",) and len(said) == 2  # showing a chat's choice is not a change
    assert switches.boxes["browser"].toolTip() == HINTS["browser"]


def test_a_locked_switch_is_off_greyed_and_says_why(qtbot):
    switches = ToolSwitches()
    qtbot.addWidget(switches)
    switches.set_tools(("browser", "python"))
    switches.set_lock("python", "Running Python (the model's python tool) is turned off on this computer.")
    box = switches.boxes["python"]
    assert not box.isEnabled() and not box.isChecked() and switches.tools() == ("browser",)
    assert box.toolTip() == box.accessibleDescription() == switches.lock_reason("python")
    switches.set_tools(("browser", "python"))  # a chat that had it on: still off while locked
    assert switches.tools() == ("browser",)
    switches.set_lock("python", None)
    assert box.isEnabled() and box.toolTip() == HINTS["python"] and switches.lock_reason("python") is None
    switches.set_hint("python", "The model's Python runs with no network: Linux namespaces")
    assert box.toolTip() == "The model's Python runs with no network: Linux namespaces"
