"""One cell, run in this process: the last expression's value, state in the namespace, tracebacks
as text that point into the cell, exit() ending the cell only."""

from __future__ import annotations

from core.sandbox.cell import new_namespace, run_cell


def test_the_last_expression_is_shown_and_kept_in_underscore():
    namespace = new_namespace()
    result = run_cell("x = 20\nx * 2 + 2", namespace, 1)
    assert (result.value, result.error) == ("42", None)
    assert run_cell("_ + 1", namespace, 2).value == "43"


def test_none_and_statements_show_nothing():
    namespace = new_namespace()
    assert run_cell("None", namespace, 1).value is None
    assert run_cell("y = 1", namespace, 2).value is None
    assert run_cell("", namespace, 3).value is None
    assert run_cell("# only a comment", namespace, 4).value is None


def test_a_traceback_points_at_the_cell_line_and_leaves_the_runner_out():
    namespace = new_namespace()
    run_cell("def f(a):\n    return 1 / a", namespace, 1)
    result = run_cell("b = 2\nf(0)", namespace, 2)
    assert result.value is None
    assert result.error.startswith("Traceback (most recent call last):")
    assert 'File "<cell 2>", line 2, in <module>' in result.error
    assert 'File "<cell 1>", line 2, in f' in result.error and "return 1 / a" in result.error
    assert result.error.endswith("ZeroDivisionError: division by zero")
    assert "cell.py" not in result.error
    assert namespace["b"] == 2  # what ran before the error stays


def test_a_syntax_error_is_shown_without_the_parser():
    result = run_cell("x = (1,\n", new_namespace(), 7)
    assert '"<cell 7>"' in result.error and "SyntaxError" in result.error
    assert "ast.py" not in result.error


def test_exit_ends_the_cell_not_the_session():
    namespace = new_namespace()
    assert run_cell("import sys\nsys.exit(3)", namespace, 1).error == "SystemExit: 3"
    assert run_cell("exit()", namespace, 2).error == "SystemExit"


def test_a_repr_that_fails_is_a_traceback():
    result = run_cell("class A:\n    def __repr__(self):\n        raise ValueError('no')\nA()", new_namespace(), 1)
    assert result.error.endswith("ValueError: no")
