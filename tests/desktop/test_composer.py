"""Composer: Enter sends, Shift+Enter makes a new line, the button stops while busy."""

from PySide6.QtCore import Qt

from desktop.widgets.composer import Composer


def make(qtbot):
    composer = Composer()
    qtbot.addWidget(composer)
    composer.show()
    composer.set_ready(True)
    return composer


def test_enter_sends_and_clears(qtbot):
    composer = make(qtbot)
    qtbot.keyClicks(composer.edit, "Hello")
    with qtbot.waitSignal(composer.send_requested) as sent:
        qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
    assert sent.args == ["Hello"]
    assert composer.text() == ""


def test_shift_enter_adds_a_line(qtbot):
    composer = make(qtbot)
    qtbot.keyClicks(composer.edit, "one")
    qtbot.keyClick(composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(composer.edit, "two")
    assert composer.text() == "one\ntwo"


def test_blank_text_is_not_sent(qtbot):
    composer = make(qtbot)
    qtbot.keyClicks(composer.edit, "   ")
    with qtbot.assertNotEmitted(composer.send_requested):
        qtbot.keyClick(composer.edit, Qt.Key.Key_Return)


def test_busy_turns_send_into_stop(qtbot):
    composer = make(qtbot)
    composer.set_busy(True)
    assert composer.send_button.text() == "Stop"
    assert composer.send_button.accessibleName() == "Stop the answer"
    with qtbot.waitSignal(composer.stop_requested):
        composer.send_button.click()
    qtbot.keyClicks(composer.edit, "next")
    with qtbot.assertNotEmitted(composer.send_requested):
        qtbot.keyClick(composer.edit, Qt.Key.Key_Return)  # nothing is sent while an answer is coming
    assert composer.text() == "next"


def test_not_ready_without_a_model(qtbot):
    composer = make(qtbot)
    composer.set_ready(False, "Choose a model first.")
    qtbot.keyClicks(composer.edit, "Hello")
    with qtbot.assertNotEmitted(composer.send_requested):
        qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
    assert composer.send_button.toolTip() == "Choose a model first."


def test_effort_selector(qtbot):
    composer = make(qtbot)
    assert composer.effort.effort() == "medium"
    with qtbot.waitSignal(composer.effort.effort_changed) as changed:
        composer.effort.set_effort("high")
    assert changed.args == ["high"]
