"""The conversation list: shows, selects, renames in place, reports search and delete."""

from PySide6.QtCore import Qt

from desktop.history import Conversation
from desktop.widgets.conversation_list import ConversationList

CONVERSATIONS = [Conversation(2, "Second", "", 2.0), Conversation(1, "First", "", 1.0)]


def test_shows_and_selects(qtbot):
    widget = ConversationList()
    qtbot.addWidget(widget)
    widget.set_conversations(CONVERSATIONS, current=1)
    assert widget.titles() == ["Second", "First"] and widget.current_id() == 1
    with qtbot.waitSignal(widget.selected) as selected:
        widget.list.setCurrentRow(0)
    assert selected.args == [2]


def test_filling_the_list_does_not_emit_selection(qtbot):
    widget = ConversationList()
    qtbot.addWidget(widget)
    with qtbot.assertNotEmitted(widget.selected), qtbot.assertNotEmitted(widget.renamed):
        widget.set_conversations(CONVERSATIONS, current=2)


def test_rename_in_place(qtbot):
    widget = ConversationList()
    qtbot.addWidget(widget)
    widget.set_conversations(CONVERSATIONS)
    with qtbot.waitSignal(widget.renamed) as renamed:
        widget.list.item(1).setText("Renamed")
    assert renamed.args == [1, "Renamed"]


def test_search_and_new(qtbot):
    widget = ConversationList()
    qtbot.addWidget(widget)
    seen = []
    widget.search_changed.connect(seen.append)
    qtbot.keyClicks(widget.search, "tax")
    assert seen == ["t", "ta", "tax"]
    with qtbot.waitSignal(widget.new_requested):
        qtbot.mouseClick(widget.new_button, Qt.MouseButton.LeftButton)


def test_delete_key_asks_to_delete_the_current_chat(qtbot):
    widget = ConversationList()
    qtbot.addWidget(widget)
    widget.show()
    widget.activateWindow()
    qtbot.waitActive(widget)
    widget.set_conversations(CONVERSATIONS, current=1)
    widget.list.setFocus()
    with qtbot.waitSignal(widget.delete_requested) as requested:
        qtbot.keyClick(widget.list, Qt.Key.Key_Delete)
    assert requested.args == [1]


def test_right_click_keeps_the_open_chat_and_its_menu_acts_on_the_clicked_one(qtbot):
    widget = ConversationList()
    qtbot.addWidget(widget)
    widget.set_conversations(CONVERSATIONS, current=1)
    widget.show()
    second = widget.list.item(0)
    with qtbot.assertNotEmitted(widget.selected):
        qtbot.mouseClick(widget.list.viewport(), Qt.MouseButton.RightButton,
                         pos=widget.list.visualItemRect(second).center())
    assert widget.current_id() == 1  # the open chat stays open (and one transcript is drawn)
    menu = widget.menu_for(second)
    assert [a.text() for a in menu.actions()] == ["Rename", "Export…", "", "Delete…"]
    with qtbot.waitSignal(widget.delete_requested) as asked:
        menu.actions()[-1].trigger()
    assert asked.args == [2]  # the chat that was right-clicked, not the open one
    qtbot.mouseClick(widget.list.viewport(), Qt.MouseButton.LeftButton, pos=widget.list.visualItemRect(second).center())
    assert widget.current_id() == 2  # a left click still opens it
