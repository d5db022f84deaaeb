"""MessageView and Transcript: notes for unfinished answers, actions, copy (plain and Markdown),
versions, follow-the-bottom, the centred column in a wide window, where citation links come from."""

from pathlib import Path

from PySide6.QtGui import QGuiApplication

from core.chat.browser_tool import Citation
from desktop.history import Message
from desktop.kept_citations import with_citations
from desktop.widgets.message_view import MessageView
from desktop.widgets.transcript import Transcript


def answer(**fields) -> Message:
    values = dict(id=2, conversation_id=1, role="assistant", content="Hi **there**")
    return Message(**(values | fields))


def test_interrupted_and_stopped_answers_say_so(qtbot):
    view = MessageView(answer(status="interrupted"))
    qtbot.addWidget(view)
    assert "cut short" in view.note.text() and not view.note.isHidden()
    view.message.status = "stopped"
    view.refresh()
    assert view.note.text() == "You stopped this answer."
    view.message.status = "error"
    view.message.stats = {"error": "The model ran out of memory."}
    view.refresh()
    assert view.note.text() == "The model ran out of memory."
    view.message.status = "complete"
    view.message.stats = {"reason": "length"}
    view.refresh()
    assert "length limit" in view.note.text()
    view.message.stats = {"reason": "stop"}
    view.refresh()
    assert view.note.isHidden()


def test_reasoning_shows_only_when_there_is_some(qtbot):
    view = MessageView(answer())
    qtbot.addWidget(view)
    assert view.thinking.isHidden()
    view.message.reasoning, view.message.reasoning_seconds = "hmm", 2.0
    view.refresh()
    assert not view.thinking.isHidden() and view.thinking.title() == "Thought for 2 seconds"


def test_actions_by_role(qtbot):
    user = MessageView(Message(1, 1, "user", "question"))
    qtbot.addWidget(user)
    assert not user.edit_button.isHidden() and user.regenerate_button.isHidden()
    with qtbot.waitSignal(user.edit_requested) as edit:
        user.edit_button.click()
    assert edit.args == [1]
    reply = MessageView(answer())
    qtbot.addWidget(reply)
    reply.set_can_regenerate(True)
    with qtbot.waitSignal(reply.regenerate_requested) as regenerate:
        reply.regenerate_button.click()
    assert regenerate.args == [2]
    reply.copy_button.click()
    assert QGuiApplication.clipboard().text() == "Hi there"
    reply.copy_markdown_button.click()
    assert QGuiApplication.clipboard().text() == "Hi **there**"


def test_copy_gives_the_text_as_shown_and_copy_as_markdown_the_source(qtbot):
    source = "Steps:\n\n1. Mix *flour*\n2. Bake\n\n```sh\nmake **all**\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    view = MessageView(answer(content=source))
    qtbot.addWidget(view)
    view.copy_button.click()
    assert QGuiApplication.clipboard().text() == "Steps:\n\n1. Mix flour\n2. Bake\n\nmake **all**\n\na\tb\n1\t2"
    view.copy_markdown_button.click()
    assert QGuiApplication.clipboard().text() == source


def test_an_answer_with_versions_pages_through_them(qtbot):
    view = MessageView(answer(version=2, versions=3))
    qtbot.addWidget(view)
    view.show()
    assert view.pager.isVisible() and view.pager.text() == "2/3"
    assert not view.pager.previous_button.isEnabled()  # only the latest answer, when allowed
    view.set_can_regenerate(True)
    with qtbot.waitSignal(view.version_requested) as previous:
        view.pager.previous_button.click()
    assert previous.args == [2, 1]
    with qtbot.waitSignal(view.version_requested) as following:
        view.pager.next_button.click()
    assert following.args == [2, 3]
    view.message.version = 3
    view.refresh()
    assert view.pager.text() == "3/3" and not view.pager.next_button.isEnabled()
    view.set_can_regenerate(False)  # an answer is being written, or this one is followed by others
    assert not view.pager.previous_button.isEnabled() and "latest answer" in view.pager.label.toolTip()
    single = MessageView(answer())
    qtbot.addWidget(single)
    single.show()
    assert single.pager.isHidden()


def test_transcript_lists_messages_and_offers_regenerate_on_the_last_only(qtbot):
    transcript = Transcript()
    qtbot.addWidget(transcript)
    assert not transcript.placeholder.isHidden()
    transcript.show_messages([Message(1, 1, "user", "q"), answer(id=2), Message(3, 1, "user", "q2"), answer(id=4)])
    assert transcript.placeholder.isHidden()
    assert [v.message.id for v in transcript.views] == [1, 2, 3, 4]
    assert [not v.regenerate_button.isHidden() for v in transcript.views] == [False, False, False, True]
    transcript.update_actions(busy=True)
    assert all(v.regenerate_button.isHidden() for v in transcript.views)
    assert transcript.view_for(3).message.content == "q2"
    transcript.clear()
    assert transcript.views == [] and not transcript.placeholder.isHidden()


def test_transcript_follows_a_growing_answer(qtbot):
    transcript = Transcript()
    qtbot.addWidget(transcript)
    transcript.resize(400, 300)
    transcript.show()
    view = transcript.add_message(answer(content=""))
    for n in range(1, 40):
        view.message.content = "\n\n".join(f"line {i}" for i in range(n))
        view.refresh(running=True)
        qtbot.wait(1)
    bar = transcript.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())
    bar.setValue(0)  # the person scrolls up to read: stop following
    view.message.content += "\n\nmore"
    view.refresh(running=True)
    qtbot.wait(20)
    assert bar.value() == 0


def test_a_wide_transcript_keeps_its_messages_in_a_centred_column(qtbot):
    transcript = Transcript()
    qtbot.addWidget(transcript)
    transcript.show()
    transcript.show_messages([Message(1, 1, "user", "q"), answer(content="word " * 400)])
    column = transcript.column_width()
    assert 500 < column < 1000  # about 50 em
    transcript.resize(column + 800, 600)
    qtbot.waitUntil(lambda: transcript.views[1].width() == column)
    view, viewport = transcript.views[1], transcript.viewport()
    left = view.mapTo(viewport, view.rect().topLeft()).x()
    assert abs(left - (viewport.width() - column - left)) <= 1  # as much room on either side
    transcript.resize(500, 600)  # narrow: the messages take the width, less a margin
    qtbot.waitUntil(lambda: transcript.views[1].width() == transcript.viewport().width() - 32)


def test_the_answer_being_written_links_through_the_browser_and_a_written_one_through_what_it_keeps(qtbot):
    live = Citation(1, 3, 3, Path("/docs/live.md"), "Live", None, 3, 3, None)
    kept = Citation(1, 3, 3, Path("/docs/kept.md"), "Kept", None, 8, 8, None)
    view = MessageView(answer(content="See 【1†L3】.", status="streaming"))
    qtbot.addWidget(view)
    view.set_citation_resolver(lambda cursor, first, last: live)
    view.refresh(running=True)
    assert view.body.prose_labels()[0].citations == [live]
    view.message.stats = with_citations({}, view.message.content, lambda cursor, first, last: kept)
    view.message.status = "complete"
    view.refresh()
    assert view.body.prose_labels()[0].citations == [kept]
