"""The `hearth` command: no arguments opens the desktop app; subcommands work in the terminal.

Each subcommand lives in its own module of this package and exposes
`register(subparsers)`, which adds its parser and sets `func` on it.

Before any command runs, the process's egress guard (`core.system.egress`) is installed with the
offline mode that the organisation's policy, `HEARTH_OFFLINE` and a command's `--offline` give,
locked on where the policy forces it; the window and every command then share that guard.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from cli import exit_codes

# Modules that register subcommands, in the order `hearth --help` lists them.
COMMAND_MODULES: list[str] = ["cli.chat", "cli.models", "cli.docs", "cli.hardware", "cli.serve", "cli.selftest"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hearth",
        description="Chat with gpt-oss on your own machine. With no command, opens the Hearth window.",
        epilog=exit_codes.TABLE, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--self-test"]:  # the spelling installers and support instructions use
        argv = ["self-test", *argv[1:]]
    parser = build_parser()
    args = parser.parse_args(argv)
    _install_egress_guard(args)
    if args.command is None:
        return _open_window()
    return int(args.func(args) or 0)


def _install_egress_guard(args: argparse.Namespace) -> None:
    # After parsing, so `--help` stays quick and a command's own --offline flag counts; before
    # the command, so nothing it does can reach the network first. Installed even when offline
    # mode is off: the guard then only counts, and the window can turn it on later.
    from core.system import egress
    from core.system.environment import offline_from_env
    from core.system.policy_file import load_policy

    egress.install_for(load_policy(), bool(getattr(args, "offline", None)) or offline_from_env())


def _open_window() -> int:
    try:
        app = importlib.import_module("desktop.app")
    except ModuleNotFoundError:
        print("The Hearth window is not part of this build yet; see `hearth --help`.", file=sys.stderr)
        return exit_codes.FAILED
    return int(app.main() or 0)


if __name__ == "__main__":
    sys.exit(main())
