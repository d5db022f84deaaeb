"""Plain text of a message's Markdown, as "Copy" puts it on the clipboard."""

from desktop.plain_text import to_plain_text
from tests.desktop.helpers import ANSWER


def test_marks_go_and_the_shape_stays(qapp):
    assert to_plain_text(ANSWER) == "Hello! Here is a list:\n\n• one\n• two\n\nprint('hi')\n\na\tb\n1\t2"
    assert to_plain_text("# Title\n\nA [link](https://example.org), `code` and ~~no~~ *marks*.") == (
        "Title\n\nA link, code and no marks.")
    lists = "- one\n  - inner\n- two\n\n3. three\n4. four"
    assert to_plain_text(lists) == "• one\n  • inner\n• two\n\n3. three\n4. four"


def test_code_is_copied_exactly(qapp):
    code = "def f(x):\n    return x * 2  # **not** emphasis"
    assert to_plain_text(f"```python\n{code}\n```") == code
    assert to_plain_text("") == ""
