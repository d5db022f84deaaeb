"""The Thinking section: collapsed by default, opens and closes, tells how long."""

from PySide6.QtCore import Qt

from desktop.widgets.thinking_section import ThinkingSection, duration_text


def test_collapsed_by_default_and_toggles(qtbot):
    section = ThinkingSection()
    qtbot.addWidget(section)
    section.show()
    section.set_text("I should say hello.")
    assert not section.is_expanded() and not section.body.isVisible()
    qtbot.mouseClick(section.toggle, Qt.MouseButton.LeftButton)
    assert section.is_expanded() and section.body.isVisible()
    assert section.body.text() == "I should say hello."
    qtbot.mouseClick(section.toggle, Qt.MouseButton.LeftButton)
    assert not section.body.isVisible()


def test_title_while_running_and_after(qtbot):
    section = ThinkingSection()
    qtbot.addWidget(section)
    section.set_running(True)
    assert section.title() == "Thinking…"
    section.set_running(False)
    section.set_duration(3.2)
    assert section.title() == "Thought for 3 seconds"


def test_duration_text():
    assert duration_text(0.3) == "less than a second"
    assert duration_text(1.0) == "1 second"
    assert duration_text(75) == "1 min 15 s"
