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


def test_editing_shows_the_bar_and_cancel_puts_the_draft_back(qtbot):
    composer = make(qtbot)
    assert composer.edit_bar.isHidden()
    qtbot.keyClicks(composer.edit, "half a thought")
    composer.begin_edit("Hello")
    assert composer.text() == "Hello" and composer.is_editing()
    assert composer.edit_bar.isVisible() and composer.edit_bar.text().startswith("Editing your message")
    qtbot.keyClicks(composer.edit, " there")
    with qtbot.waitSignal(composer.edit_cancelled):
        composer.edit_bar.cancel_button.click()
    assert composer.text() == "half a thought" and not composer.is_editing() and composer.edit_bar.isHidden()


def test_sending_an_edit_ends_it_and_keeps_the_draft(qtbot):
    composer = make(qtbot)
    qtbot.keyClicks(composer.edit, "draft")
    composer.begin_edit("Hello")
    with qtbot.waitSignal(composer.send_requested) as sent:
        qtbot.keyClick(composer.edit, Qt.Key.Key_Return)
    assert sent.args == ["Hello"]
    composer.end_edit()  # the chat saved it
    assert composer.edit_bar.isHidden() and not composer.is_editing() and composer.text() == "draft"


def test_the_box_grows_with_its_text_up_to_ten_lines_then_scrolls(qtbot):
    composer = make(qtbot)
    edit = composer.edit
    three, ten = edit.height_for(3), edit.height_for(10)
    assert edit.height() == three  # room for three lines when empty
    qtbot.keyClicks(edit, "one")
    for word in ("two", "three", "four", "five"):
        qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
        qtbot.keyClicks(edit, word)
    assert edit.height() == edit.height_for(5) and edit.verticalScrollBar().maximum() == 0
    composer.set_text("\n".join(f"line {n}" for n in range(15)))
    assert edit.height() == ten
    qtbot.waitUntil(lambda: edit.verticalScrollBar().maximum() > 0)  # the rest scrolls
    edit.clear()
    assert edit.height() == three


def test_under_a_theme_the_fifth_line_still_shows_whole(qtbot, qapp):
    from desktop import theme

    qapp.setStyleSheet(theme.stylesheet("dark"))  # its padding and border take room a fixed guess missed
    try:
        composer = make(qtbot)
        edit = composer.edit
        assert edit.height() == edit.height_for(3)  # measured once the theme has polished the box
        qtbot.keyClicks(edit, "one")
        for word in ("two", "three", "four", "five"):
            qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
            qtbot.keyClicks(edit, word)
        assert edit.height() == edit.height_for(5) and edit.verticalScrollBar().maximum() == 0
    finally:
        qapp.setStyleSheet("")
