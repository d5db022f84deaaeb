"""The Chat page's layout: the conversation list folds away in a narrow window and comes back."""

from desktop.widgets.chat_page import LIST_WIDTH, ChatPage


def test_a_narrow_window_folds_the_chat_list_and_a_button_brings_it_back(qtbot):
    page = ChatPage()
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    qtbot.waitUntil(lambda: page.sizes()[0] > 0)
    assert page.sizes()[0] > 100 and not page.chats_button.isVisible()
    page.resize(600, 700)
    qtbot.waitUntil(lambda: page.sizes()[0] == 0)
    assert page.chats_button.isVisible() and page.sizes()[1] >= 590  # the chat keeps the room
    page.chats_button.click()
    assert page.sizes()[0] > 100 and page.conversation_list.isVisible()
    page.chats_button.click()
    assert page.sizes()[0] == 0
    page.resize(1200, 700)
    qtbot.waitUntil(lambda: page.sizes()[0] == LIST_WIDTH)
    assert not page.chats_button.isVisible()
