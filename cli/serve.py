"""`hearth serve`: the local OpenAI-compatible API for other tools on this machine (opt-in).

    hearth serve --model PATH|ID [--host 127.0.0.1] [--port 8080] [--api-key KEY] [--no-key-on-network]
                 [--tools browser,python]

Listens on loopback unless told otherwise; clients use `http://127.0.0.1:8080/v1` as their
OpenAI base URL and the model id it prints. The organisation's policy is checked first: a
policy that turns the API server off (or keeps it on loopback, or does not allow the model)
stops it before anything is loaded. In offline mode the egress guard is on for the whole run
and its count is printed when the server stops.

`--tools browser,python` offers the model its built-in tools with every request; the server runs
the calls itself (the document library, a Python sandbox per request) and clients get the answer,
with the reasoning around the calls but not the calls (core/server/tool_steps.py). The policy's
`builtin_tools` decides which may be offered.

The policy judges the model by what its folder holds (core/store/identity.py), never by
`--name`, which only changes the id clients send. `--device auto` (the default) runs the model
where the fit planner puts it, as the window does.

Exit codes (cli/exit_codes.py): 0 stopped by Ctrl-C or SIGTERM, 1 failed (the reason is
printed), 2 wrong usage, 3 refused by the organisation's policy.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from cli import exit_codes
from cli.chat import builtin_tools, tool_names

API_KEY_ENV = "HEARTH_API_KEY"


def register(subparsers) -> None:
    serve = subparsers.add_parser("serve", help="serve a model over an OpenAI-compatible API on this machine")
    serve.add_argument("--model", required=True,
                       help="model folder (either published format), or the id of an installed model")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default: 127.0.0.1, this computer only)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080; 0 picks a free one)")
    serve.add_argument("--api-key", help=f"require this key from clients (also: {API_KEY_ENV}, which keeps it "
                                         "out of the process list)")
    serve.add_argument("--no-key-on-network", action="store_true", default=False,
                       help="listen beyond this computer (--host) without an API key: anyone who can reach it "
                            "may use the model")
    serve.add_argument("--name", help="the model id clients send (default: the model's catalogue id or folder name)")
    serve.add_argument("--queue", type=int, default=4,
                       help="requests that may wait while one is answered; more get 429 (default: 4)")
    serve.add_argument("--context", type=int, help="tokens a request may use, prompt and answer (default: the "
                                                   "model's context)")
    serve.add_argument("--device", default="auto",
                       help="auto, cpu, cuda, cuda:1 ... (default: auto, where the model fits best)")
    serve.add_argument("--load-anyway", action="store_true", default=False,
                       help="load the model even when less memory is free than it needs (answers may be very slow)")
    serve.add_argument("--offline", action="store_true", default=False,
                       help="refuse every connection off this machine (also: HEARTH_OFFLINE=1)")
    serve.add_argument("--tools", type=tool_names, default=(), metavar="browser,python",
                       help="offer the model its built-in tools, run by the server: browser (searches your documents, "
                            "see `hearth docs`), python (runs code in a sandbox without network)")
    serve.set_defaults(func=_serve)


def _serve(args) -> int:
    from core.errors import HearthError, MemoryTight
    from core.store.identity import find_model
    from core.system.policy import PolicyForbids, is_loopback_host
    from core.system.policy_file import load_policy

    if args.queue < 0 or not 0 <= args.port <= 65535 or (args.context is not None and args.context < 16):
        print("--queue must be 0 or more, --port 0 to 65535, --context at least 16.", file=sys.stderr)
        return exit_codes.USAGE
    if args.api_key is not None and not args.api_key.strip():
        print("--api-key is empty: give a key clients must send, or leave the option out.", file=sys.stderr)
        return exit_codes.USAGE
    api_key = args.api_key or os.environ.get(API_KEY_ENV) or None
    if not is_loopback_host(args.host) and not api_key and not args.no_key_on_network:
        print(f"Not listening on {args.host} without an API key: anyone who can reach this computer could use "
              f"the model. Give one with --api-key (or {API_KEY_ENV}), or pass --no-key-on-network if that is "
              "what you want.", file=sys.stderr)
        return exit_codes.USAGE
    policy = load_policy()
    if policy.error:
        print(f"The organisation's policy could not be used: {policy.error}", file=sys.stderr)
    guard = _install_egress_guard(args, policy)
    try:
        policy.check_api_server(args.host)
        folder = find_model(args.model, policy)
    except PolicyForbids as refusal:
        print(f"Not serving: {refusal}", file=sys.stderr)
        return exit_codes.REFUSED
    except HearthError as error:
        print(str(error), file=sys.stderr)
        return exit_codes.FAILED
    tools = builtin_tools(args.tools, policy)
    if isinstance(tools, int):
        return tools
    if not is_loopback_host(args.host) and not api_key:
        print(f"Listening on {args.host} without an API key (--no-key-on-network): anyone who can reach this "
              "computer can use the model.", file=sys.stderr)
    try:
        server = _start(args, folder, api_key, policy, tools)
    except HearthError as error:
        print(str(error), file=sys.stderr)
        if isinstance(error, MemoryTight):
            print("To load it anyway, add --load-anyway.", file=sys.stderr)
        return exit_codes.FAILED
    except OSError as error:
        print(f"Cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
        return exit_codes.FAILED
    offered = f", with the tools {' and '.join(tools.offered)}" if tools.offered else ""
    print(f"Serving {args.name or folder.name} at {server.url} (one answer at a time, up to {args.queue} waiting"
          f"{offered}). Press Ctrl+C to stop.", flush=True)
    _run_until_stopped(server)
    print("Stopped." + (f" Offline mode: {guard.summary()}." if guard else ""), flush=True)
    return exit_codes.OK


def _install_egress_guard(args, policy):
    from core.system import egress
    from core.system.environment import offline_from_env

    if not policy.effective_offline(args.offline or offline_from_env()):
        return None
    return egress.install_for(policy, offline=True)


def _start(args, folder, api_key: str | None, policy, tools):
    from core.chat.opener import open_model  # torch loads here, not for `hearth --help`
    from core.server.http import serve_in_background

    opened = open_model(folder, args.device, load_anyway=args.load_anyway)
    if opened.model.notice:
        print(opened.model.notice, file=sys.stderr, flush=True)
    return serve_in_background(opened.model, opened.tokenizer, args.name or opened.name, args.host, args.port,
                               policy=policy, context=args.context, api_key=api_key, max_queue=args.queue,
                               builtin_tools=tools)


def _run_until_stopped(server) -> None:
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if _main_thread() else None
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
