"""Reading a long message: the measured estimate (desktop/reading.py) and its line in the answer."""

from core.chat.events import PromptProgress
from desktop.history import Message
from desktop.reading import Reading
from desktop.widgets.message_view import MessageView
from desktop.widgets.reading_progress import ReadingProgress, reading_text


def test_the_time_left_comes_from_the_rate_measured_so_far():
    # 256 tokens in 4 s: 64 tokens/s, so the 768 left take 12 s.
    reading = Reading.measure(PromptProgress(256, 1024), started=10.0, now=14.0)
    assert (reading.done, reading.total, reading.percent) == (256, 1024, 25)
    assert reading.seconds_left == 12.0 and not reading.finished
    # Nothing read yet: no rate, no guess.
    assert Reading.measure(PromptProgress(0, 1024), started=10.0, now=10.0).seconds_left is None
    assert Reading.measure(PromptProgress(1024, 1024), started=10.0, now=30.0).finished


def test_the_line_says_how_much_is_read_and_about_how_long_the_rest_takes(qtbot):
    assert reading_text(Reading(42, 100, 70.0)) == "Reading your message: 42%, about 1 min left"
    assert reading_text(Reading(999, 1000, 3.0)) == "Reading your message: 99%, less than a minute left"
    assert reading_text(Reading(0, 1000, None)) == "Reading your message: 0%, working out the time left"
    widget = ReadingProgress()
    qtbot.addWidget(widget)
    widget.show_reading(Reading(8200, 19500, 190.0))
    assert widget.text() == "Reading your message: 42%, about 3 min left" and widget.bar.value() == 42


def test_the_answer_shows_reading_first_and_drops_it_when_the_model_writes(qtbot):
    view = MessageView(Message(2, 1, "assistant", ""))
    qtbot.addWidget(view)
    view.show()
    view.refresh(running=True)
    assert view.reading.isHidden() and view.thinking.title() == "Thinking…"  # a short message: no progress
    view.set_reading(Reading(256, 1024, 12.0))
    view.refresh(running=True)
    assert view.reading.isVisible() and view.thinking.isHidden()
    assert view.reading.text() == "Reading your message: 25%, less than a minute left"
    view.message.reasoning = "The user wants"
    view.refresh(running=True)
    assert view.reading.isHidden() and view.thinking.isVisible()
