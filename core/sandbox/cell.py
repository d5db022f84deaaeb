"""One cell, as a notebook runs it: the code's statements in the session's namespace, and the value
of its last line when that line is an expression (shown as its repr, unless None, and kept in `_`).

An exception comes back as the traceback text a person would see, without the worker's own frames:
`Traceback ... File "<cell 3>", line 2, in <module> ... NameError: ...`. SystemExit (exit(),
sys.exit()) ends the cell, not the session, as in Jupyter. Nothing here raises.

Runs inside the worker; imports only the standard library.
"""

from __future__ import annotations

import ast
import builtins
import linecache
import traceback
from dataclasses import dataclass
from typing import Any


@dataclass
class CellResult:
    value: str | None  # repr of the last expression's value, when it is not None
    error: str | None  # the traceback, or "SystemExit: 0" ...


def new_namespace() -> dict[str, Any]:
    return {"__name__": "__main__", "__builtins__": builtins, "__doc__": None}


def run_cell(code: str, namespace: dict[str, Any], number: int) -> CellResult:
    filename = f"<cell {number}>"
    # The traceback module reads a cell's lines from here, as it reads a file's.
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    try:
        tree = ast.parse(code, filename, "exec")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, filename, "exec"), namespace)
        if last is None:
            return CellResult(None, None)
        value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
    except SystemExit as exit_:
        return CellResult(None, f"SystemExit: {exit_.code}" if exit_.code is not None else "SystemExit")
    except BaseException as error:  # KeyboardInterrupt included: the cell failed, the session goes on
        return CellResult(None, _traceback(error, filename))
    if value is None:
        return CellResult(None, None)
    namespace["_"] = value
    try:
        return CellResult(repr(value), None)
    except BaseException as error:
        return CellResult(None, _traceback(error, filename))


def _traceback(error: BaseException, filename: str) -> str:
    """The traceback from the first frame of the cell on (this module's frame left out)."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    if isinstance(error, SyntaxError):  # raised by ast.parse, above the cell: show just the error
        tb = None
    return "".join(traceback.format_exception(type(error), error, tb)).rstrip("\n")
