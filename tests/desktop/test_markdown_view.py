"""MarkdownView and CodeBlock: prose through Qt's Markdown, code with a working Copy button,
and widgets kept (not rebuilt) while text streams in."""

from PySide6.QtGui import QGuiApplication, QTextDocument

from desktop.widgets.code_block import CodeBlock
from desktop.widgets.markdown_view import MarkdownView


def test_streaming_text_keeps_finished_blocks(qtbot):
    view = MarkdownView()
    qtbot.addWidget(view)
    view.set_text("Intro\n\n```py\nprint(1")
    (label,) = view.prose_labels()
    (code,) = view.code_blocks()
    assert code.code() == "print(1"
    view.set_text("Intro\n\n```py\nprint(1)\n```\n\nDone")
    assert view.prose_labels()[0] is label and view.code_blocks()[0] is code
    assert code.code() == "print(1)"
    assert [w.text() for w in view.prose_labels()] == ["Intro", "Done"]


def test_the_language_arriving_after_the_fence_is_shown(qtbot):
    view = MarkdownView("```")
    qtbot.addWidget(view)
    (code,) = view.code_blocks()
    assert code.language_label.text() == "code"
    view.set_text("```python\nx")
    assert view.code_blocks()[0] is code and code.language_label.text() == "python"


def test_tables_and_lists_render_as_rich_text(qtbot):
    view = MarkdownView("| a | b |\n|---|---|\n| 1 | 2 |\n\n- first\n- second")
    qtbot.addWidget(view)
    table, items = view.prose_labels()
    # Labels render through QTextDocument's Markdown reader: check what it builds.
    doc = QTextDocument()
    doc.setMarkdown(table.text())
    assert "<table" in doc.toHtml()
    doc.setMarkdown(items.text())
    assert "<li" in doc.toHtml() and "first" in doc.toHtml()


def test_a_long_streaming_answer_updates_in_constant_time(qtbot):
    """Only the last paragraph is re-rendered, and unchanged paragraphs keep their measured
    height: deep into a 90,000-character answer an update must still fit a frame budget."""
    import statistics
    import time

    from PySide6.QtWidgets import QApplication

    from desktop.history import Message
    from desktop.widgets.transcript import Transcript

    transcript = Transcript()
    qtbot.addWidget(transcript)
    transcript.resize(900, 600)
    transcript.show()
    view = transcript.add_message(Message(1, 1, "assistant", ""))
    paragraph = "Words with **bold** and `code`, going on for a while. " * 6
    times = []
    for i in range(300):
        view.message.content += paragraph + ("\n\n" if i % 3 == 0 else "")
        start = time.perf_counter()
        view.refresh(running=True)
        QApplication.processEvents()  # layout and paint, as in the running app
        times.append(time.perf_counter() - start)
    assert len(view.message.content) > 90_000
    assert statistics.median(times[-100:]) < 0.03


def test_copy_button_puts_the_code_on_the_clipboard(qtbot):
    block = CodeBlock("x = 1\ny = 2", "python")
    qtbot.addWidget(block)
    assert block.language_label.text() == "python"
    block.copy_button.click()
    assert QGuiApplication.clipboard().text() == "x = 1\ny = 2"
    assert block.copy_button.text() == "Copied"
    qtbot.waitUntil(lambda: block.copy_button.text() == "Copy", timeout=3000)


def test_code_block_grows_with_its_code(qtbot):
    block = CodeBlock("a")
    qtbot.addWidget(block)
    short = block.editor.height()
    block.set_code("\n".join("line" for _ in range(10)))
    assert block.editor.height() > short
