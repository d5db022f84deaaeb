"""`hearth docs add|update|list|remove|search`: the document library the model's browser reads.

Exit codes (cli/exit_codes.py): 0 done (files that could not be read are said, not failed on);
1 failed, with the reason (a folder that does not exist or is not in the library, an index that
cannot be used), and for `search`, no document matched; 3 the organisation's policy keeps the
folder out of the library (`documents_folders`); 6 the disk is full; 130 Ctrl-C, which keeps
every document indexed so far (`hearth docs update` finishes the work).
"""

from __future__ import annotations

import json
import sys
import time

from cli import exit_codes
from cli.progress_line import ProgressLine
from core.chat.browser_tool import BrowserTool, ToolUsageError
from core.docs import IndexProgress, IndexSummary, Library
from core.errors import HearthError
from core.system.policy_file import load_policy


def register(subparsers) -> None:
    docs = subparsers.add_parser("docs", help="your documents, for the model to search: add, update, list, remove")
    docs.add_argument("--library-dir", help="where the library keeps its index "
                                            "(default: $HEARTH_DOCS_DIR or the user data folder)")
    sub = docs.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("add", help="add a folder and index its documents (again: pick up its changes)")
    p.add_argument("folder")
    p.set_defaults(func=_add)
    p = sub.add_parser("update", help="re-index the library's folders (or one): changed, new and deleted files")
    p.add_argument("folder", nargs="?")
    p.set_defaults(func=_update)
    p = sub.add_parser("list", help="the library's folders and how many documents each holds")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(func=_list)
    p = sub.add_parser("remove", help="forget a folder's documents (the files themselves are untouched)")
    p.add_argument("folder")
    p.set_defaults(func=_remove)
    p = sub.add_parser("search", help="search the library, showing the hits as the model sees them")
    p.add_argument("query")
    p.add_argument("--top", type=int, default=10, metavar="N", help="how many hits (default 10, at most 20)")
    p.set_defaults(func=_search)


def _run(action):
    """Turns the core's typed errors into a printed sentence and an exit code."""
    def wrapped(args) -> int:
        try:
            return action(args)
        except KeyboardInterrupt:
            print("\nStopped. The documents indexed so far are kept; `hearth docs update` finishes the work.",
                  file=sys.stderr)
            return exit_codes.STOPPED
        except HearthError as e:
            return exit_codes.failed(e)
    return wrapped


def _library(args) -> Library:
    library = Library(args.library_dir, policy=load_policy())
    if library.notice:
        print(f"hearth: {library.notice}", file=sys.stderr)
    return library


@_run
def _add(args) -> int:
    library = _library(args)
    bar = ProgressBar()
    try:
        summary = library.add(args.folder, progress=bar)
    finally:
        bar.close()
    _say(summary)
    return exit_codes.OK


@_run
def _update(args) -> int:
    library = _library(args)
    if args.folder is None and library.is_empty():
        print("The document library is empty; add a folder with `hearth docs add FOLDER`.")
        return exit_codes.OK
    bar = ProgressBar()
    try:
        summaries = library.update(args.folder, progress=bar)
    finally:
        bar.close()
    for summary in summaries:
        _say(summary)
    return exit_codes.OK


def _say(summary: IndexSummary) -> None:
    for sentence in summary.sentences():
        print(sentence)


@_run
def _list(args) -> int:
    folders = _library(args).folders()
    if args.json:
        print(json.dumps([{"path": str(f.path), "documents": f.documents, "unreadable": f.unreadable,
                           "indexed_at": f.indexed_at, "present": f.present} for f in folders], indent=2))
        return exit_codes.OK
    if not folders:
        print("The document library is empty; add a folder with `hearth docs add FOLDER`.")
    for f in folders:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(f.indexed_at)) if f.indexed_at else "not finished"
        counts = f"{f.documents} document{'' if f.documents == 1 else 's'}"
        if f.unreadable:
            counts += f", {f.unreadable} could not be read (`hearth docs update` says why)"
        absent = " (not there now: a drive not connected?)" if not f.present else ""
        print(f"{f.path}{absent}\n    {counts}; indexed {when}")
    return exit_codes.OK


@_run
def _remove(args) -> int:
    count = _library(args).remove(args.folder)
    print(f"Removed {args.folder} from the library ({count} document{'' if count == 1 else 's'}); "
          f"the files themselves are untouched.")
    return exit_codes.OK


@_run
def _search(args) -> int:
    browser = BrowserTool(_library(args))
    try:
        print(browser.search(args.query, topn=args.top))
    except ToolUsageError as e:
        return exit_codes.failed(e)
    return exit_codes.OK if browser.pages[-1].links else exit_codes.FAILED


class ProgressBar(ProgressLine):
    """Draws `IndexProgress`: a redrawn bar on a terminal, a line per 10 % otherwise."""

    def __call__(self, p: IndexProgress) -> None:
        if p.phase == "scanning":
            if self.tty:
                self.draw("Looking for documents...", 0.0)
            return
        text = (f"{'indexing' if p.phase == 'reading' else p.phase:<9}"
                f"{self.bar(p.fraction)} {p.done}/{p.total}  {p.file or ''}")
        self.draw(text, p.fraction, always=p.phase == "done")
