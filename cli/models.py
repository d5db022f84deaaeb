"""`hearth models list|download|pause|resume|import|export|delete|verify`: the model store in a terminal.

Exit codes: cli/exit_codes.py (`hearth --help` lists them).

Pausing: Ctrl-C in the downloading terminal pauses (everything fetched is kept). From another
terminal, `hearth models pause ID` asks the running download to stop at its next chunk and
waits until it has. A download survives restarts: `resume` continues from the bytes on disk.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from cli import exit_codes
from cli.progress_line import ProgressLine
from core.errors import HearthError
from core.store import CATALOGUE, ModelStore
from core.store.progress import Progress
from core.units import size_text


def register(subparsers) -> None:
    models = subparsers.add_parser("models", help="list, download, import, export, delete and verify models")
    models.add_argument("--models-dir", help="models folder (default: $HEARTH_MODELS_DIR or the user data folder)")
    models.add_argument("--offline", action="store_true", default=None,
                        help="never connect to the network (also: HEARTH_OFFLINE=1)")
    sub = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    ids = sorted(CATALOGUE)

    p = sub.add_parser("list", help="installed, partly downloaded and available models")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(func=_list)
    for name, text in (("download", "download a model (continues a partial download)"),
                       ("resume", "continue a paused or interrupted download")):
        p = sub.add_parser(name, help=text)
        p.add_argument("model", choices=ids)
        p.set_defaults(func=_download)
    p = sub.add_parser("pause", help="pause a download running in another terminal or window")
    p.add_argument("model", choices=ids)
    p.set_defaults(func=_pause)
    p = sub.add_parser("import", help="install a model from a folder or USB drive (either published format)")
    p.add_argument("folder")
    p.add_argument("--as", dest="model", choices=ids, help="which model the folder holds, if Hearth cannot tell")
    p.add_argument("--in-place", action="store_true", help="use the files where they are instead of copying")
    p.set_defaults(func=_import)
    p = sub.add_parser("export", help="copy an installed model to a folder, with a manifest to check it")
    p.add_argument("model", choices=ids)
    p.add_argument("dest")
    p.set_defaults(func=_export)
    p = sub.add_parser("delete", help="remove a model (and any partial download of it)")
    p.add_argument("model", choices=ids)
    p.set_defaults(func=_delete)
    p = sub.add_parser("verify", help="re-check every file of an installed model against its checksum")
    p.add_argument("model", choices=ids)
    p.set_defaults(func=_verify)


def _store(args) -> ModelStore:
    store = ModelStore(args.models_dir, offline=args.offline)
    if args.models_dir and store.models_dir.resolve() != Path(args.models_dir).expanduser().resolve():
        # The policy fixed the folder; say so rather than quietly work somewhere else.
        print(f"hearth: using {store.models_dir}, not {args.models_dir}. {store.policy.lock_reason('models_dir')}",
              file=sys.stderr)
    return store


def _run(action):
    """Turns the core's typed errors into a printed sentence and an exit code."""
    def wrapped(args) -> int:
        try:
            return action(args)
        except HearthError as e:
            return exit_codes.failed(e)
    return wrapped


@_run
def _list(args) -> int:
    infos = _store(args).list()
    if args.json:
        print(json.dumps([
            {"id": m.id, "status": m.status, "path": str(m.path) if m.path else None,
             "bytes_on_disk": m.bytes_on_disk, "total_bytes": m.total_bytes, "in_place": m.in_place,
             "downloading": m.downloading, "description": m.description, "problem": m.problem}
            for m in infos
        ], indent=2))
        return exit_codes.OK
    for m in infos:
        status = m.status + (", downloading" if m.downloading else "") + (", in place" if m.in_place else "")
        size = (f"{size_text(m.bytes_on_disk)} of {size_text(m.total_bytes)}" if m.status == "partial"
                else size_text(m.total_bytes))
        print(f"{m.id:<14} {status:<24} {size:>18}   {m.path or m.description}")
        if m.problem:
            print(f"{'':<14} {m.problem} Delete it (`hearth models delete {m.id}`), then download or import it again.")
    return exit_codes.OK


@_run
def _download(args) -> int:
    store = _store(args)
    bar = ProgressBar()
    try:
        outcome = store.download(args.model, progress=bar)
    except KeyboardInterrupt:
        outcome = None
    finally:
        bar.close()
    if outcome is None or outcome.status == "paused":
        print(f"Paused. Everything fetched is kept; run `hearth models resume {args.model}` to continue.")
        return exit_codes.PAUSED
    print(f"{args.model} is installed in {outcome.path}.")
    return exit_codes.OK


@_run
def _pause(args) -> int:
    store = _store(args)
    if not store.request_pause(args.model):
        if store.info(args.model).status == "partial":
            print(f"No download of {args.model} is running; it is already paused.")
            return exit_codes.OK
        print(f"No download of {args.model} is running.", file=sys.stderr)
        return exit_codes.FAILED
    deadline = time.monotonic() + 30
    while store.is_downloading(args.model) and time.monotonic() < deadline:
        time.sleep(0.1)
    if store.is_downloading(args.model):
        print(f"Asked the download of {args.model} to pause, but it has not stopped yet.", file=sys.stderr)
        return exit_codes.FAILED
    print(f"Paused the download of {args.model}; `hearth models resume {args.model}` continues it.")
    return exit_codes.OK


@_run
def _import(args) -> int:
    bar = ProgressBar()
    try:
        info = _store(args).import_folder(args.folder, model_id=args.model, progress=bar, copy=not args.in_place)
    finally:
        bar.close()
    where = "registered where it is" if info.in_place else "copied"
    print(f"{info.id} is installed ({where}): {info.path}.")
    return exit_codes.OK


@_run
def _export(args) -> int:
    bar = ProgressBar()
    try:
        target = _store(args).export(args.model, args.dest, progress=bar)
    finally:
        bar.close()
    print(f"Exported {args.model} to {target}; `hearth models import {target}` installs it on another machine.")
    return exit_codes.OK


@_run
def _delete(args) -> int:
    freed = _store(args).delete(args.model)
    print(f"Deleted {args.model}; freed {size_text(freed)}.")
    return exit_codes.OK


@_run
def _verify(args) -> int:
    bar = ProgressBar()
    try:
        report = _store(args).verify(args.model, progress=bar)
    finally:
        bar.close()
    for problem in report.problems:
        print(f"{problem.path}: {problem.problem}")
    if not report.ok:
        print(f"{args.model}: {len(report.problems)} of {report.files_checked} files are missing or damaged. "
              f"Delete and download it again.", file=sys.stderr)
        return exit_codes.VERIFY_FAILED
    print(f"{args.model}: all {report.files_checked} files are intact.")
    return exit_codes.OK


class ProgressBar(ProgressLine):
    """Draws `Progress` events: a redrawn bar on a terminal, a line per 10 % otherwise."""

    def __call__(self, p: Progress) -> None:
        if p.message:
            self.line(p.message)
        fraction = min(max(p.fraction, 0.0), 1.0)
        eta = f"ETA {_duration(p.eta_seconds)}" if p.eta_seconds else ""
        speed = f"{size_text(int(p.bytes_per_second))}/s" if p.bytes_per_second else ""
        text = (f"{p.phase:<11} {self.bar(fraction)} {fraction:6.1%} "
                f"{size_text(p.done)}/{size_text(p.total)} {speed:>10} {eta:>12}  {p.file or ''}")
        self.draw(text, fraction, always=p.phase in ("paused", "done"))


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"
