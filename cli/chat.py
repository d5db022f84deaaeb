"""`hearth chat` (talk to a model in the terminal) and `hearth run` (one question, one answer).

chat: answers stream as they are written; the model's reasoning is shown dimmed under a
"thinking" label; Ctrl-C stops the answer (not the program); Ctrl-D or /exit quits, /reset
starts over.

run: the final answer goes to stdout and the reasoning to stderr, so `hearth run ... > file`
keeps only the answer; `--json` prints every event as one JSON object per line instead;
`--json-schema FILE` makes the answer one JSON document valid against the schema in FILE.

The organisation's policy decides which models may be loaded, judged by what the folder holds
(core/store/identity.py), before anything is loaded. `--device auto` (the default) runs the
model where the fit planner puts it, as the window does.

`--tools browser,python` offers the model its built-in tools (core/chat/tool_turns.py): `browser`
searches and reads the document library (`hearth docs add FOLDER`), `python` runs code in a
sandbox with no network, its variables kept for the whole chat. Each call and a short result are
shown dimmed, as the reasoning is (on stderr for `run`); Ctrl-C stops a running call and the
answer. The policy decides which tools may be offered (`builtin_tools`) and which folders the
library holds (`documents_folders`).

`--server URL --model NAME` talks to the model NAME on a remote OpenAI-compatible server
(vLLM, SGLang, llama.cpp, another Hearth) instead (core/remote/): the answer streams and shows
the same way. The policy decides which servers may be used (`servers`); the API key comes from
HEARTH_REMOTE_API_KEY (or the variable `--api-key-env` names), else the system keyring.

Exit codes (cli/exit_codes.py): 0 answered, 1 failed (the reason is printed), 2 wrong usage,
3 the model, server or a tool is not allowed by the organisation's policy, 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from cli import exit_codes
from core.chat.answer import Answer, Piece
from core.chat.builtin_tools import BUILTIN_TOOLS
from core.chat.events import Event, Finished, PromptProgress
from core.chat.harmony import REASONING_EFFORTS
from core.errors import HearthError, MemoryTight
from core.system.policy import PolicyForbids

DEFAULT_MAX_TOKENS = 4096  # a local answer's length limit unless --max-tokens says otherwise
RESULT_LINES, RESULT_CHARS = 3, 240  # how much of a tool's result the terminal shows
_BARE = re.compile(r"^\*\*viewing lines |^L\d+:\s*(# Search Results)?\s*$")  # browser lines that say nothing


def register(subparsers) -> None:
    chat = subparsers.add_parser("chat", help="chat with a model in the terminal")
    _common_options(chat)
    chat.add_argument("--system", help="instructions the model follows for the whole chat")
    chat.set_defaults(func=_chat)
    run = subparsers.add_parser("run", help="ask one question and print the answer")
    _common_options(run)
    run.add_argument("prompt", help="the question (use - to read it from standard input)")
    run.add_argument("--system", help="instructions for the model")
    run.add_argument("--json", action="store_true", help="print every event as a JSON line")
    run.add_argument("--json-schema", metavar="FILE",
                     help="answer with one JSON document valid against the JSON schema in FILE")
    run.set_defaults(func=_run)


def _common_options(parser) -> None:
    parser.add_argument("--model", required=True,
                        help="model folder (either published format), or the id of an installed model; with "
                             "--server, the model's name on that server")
    parser.add_argument("--server", metavar="URL",
                        help="use the model on this OpenAI-compatible server, e.g. https://llm.example.internal/v1")
    parser.add_argument("--api-key-env", metavar="NAME", default=None,
                        help="with --server: the environment variable holding the API key "
                             "(default: HEARTH_REMOTE_API_KEY, else the key kept in the system keyring)")
    parser.add_argument("--api", choices=("chat", "responses"), default="chat",
                        help="with --server: the server's chat completions API (default) or its Responses API")
    parser.add_argument("--reasoning", choices=REASONING_EFFORTS, default="medium",
                        help="how long the model thinks before answering (default: medium)")
    parser.add_argument("--temperature", type=float, default=1.0, help="0 always picks the likeliest word")
    parser.add_argument("--top-p", type=float, default=1.0, help="sample only from this much probability")
    parser.add_argument("--seed", type=int, help="makes sampling repeatable")
    parser.add_argument("--max-tokens", type=int, default=None,
                        help=f"longest answer, in tokens (default: {DEFAULT_MAX_TOKENS}; with --server, as long as "
                             "the server allows)")
    parser.add_argument("--reasoning-budget", type=int, metavar="TOKENS",
                        help="tokens the model may think before it must answer (default: no limit)")
    parser.add_argument("--context", type=int, help="tokens the chat may hold (default: the model's context)")
    parser.add_argument("--device", default="auto",
                        help="auto, cpu, cuda, cuda:1 ... (default: auto, where the model fits best)")
    parser.add_argument("--load-anyway", action="store_true", default=False,
                        help="load the model even when less memory is free than it needs (answers may be very slow)")
    parser.add_argument("--tools", type=tool_names, default=(), metavar="browser,python",
                        help="offer the model its built-in tools: browser (searches your documents, see `hearth "
                             "docs`), python (runs code in a sandbox without network)")


def tool_names(text: str) -> tuple[str, ...]:
    """`--tools browser,python` as a tuple of names; argparse turns the error into a usage message."""
    import argparse

    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in BUILTIN_TOOLS]
    if unknown:
        raise argparse.ArgumentTypeError(f"there is no built-in tool {unknown[0]!r}; the model's tools are "
                                         f"{' and '.join(BUILTIN_TOOLS)}")
    return names


def _chat(args) -> int:
    loaded = _load(args)
    if isinstance(loaded, int):
        return loaded
    conversation, model_name = loaded
    try:
        return _chat_loop(conversation, model_name)
    finally:
        _close(conversation)


def _chat_loop(conversation, model_name: str) -> int:
    style = _Style(sys.stdout)
    print(style.dim(f"{model_name} is ready. Type a message; Ctrl-C stops an answer, /help lists the "
                    "commands, Ctrl-D or /quit quits."), flush=True)
    while True:
        try:
            text = input("> ")
        except EOFError:
            print()
            return exit_codes.OK
        except KeyboardInterrupt:
            print()
            continue
        if text.startswith("//"):  # a message that starts with a slash, not a command
            text = text[1:]
        elif text.strip().startswith("/"):
            if _command(text.strip(), conversation, style):
                return exit_codes.OK
            continue
        if not text.strip():
            continue
        with _ctrl_c_cancels() as cancel:
            try:
                _show_chat_turn(conversation.send(text, cancel=cancel), style)
            except HearthError as error:
                print(style.warn(str(error)), flush=True)


CHAT_COMMANDS = """Commands:
  /help            this list
  /reset           start a new chat (the instructions given with --system stay)
  /effort [LEVEL]  how long the model thinks before answering: low, medium or high
  /quit, /exit     leave (also Ctrl-D)
A message that starts with a slash: type it twice (//etc/hosts ...)."""


def _command(line: str, conversation, style) -> bool:
    """Carries out one chat command; True when the chat should end."""
    name, _, rest = line.partition(" ")
    rest = rest.strip()
    if name in ("/quit", "/exit"):
        return True
    if name == "/help":
        print(style.dim(CHAT_COMMANDS), flush=True)
    elif name == "/reset":
        if hasattr(conversation, "reset"):
            conversation.reset()
        else:
            conversation.messages = [m for m in conversation.messages if m["role"] == "system"]
        print(style.dim("(new chat)"), flush=True)
    elif name == "/effort":
        if rest in REASONING_EFFORTS:
            conversation.settings = dataclasses.replace(conversation.settings, reasoning_effort=rest)
        elif rest:
            print(style.warn(f"The effort is low, medium or high, not {rest!r}."), flush=True)
            return False
        print(style.dim(f"(reasoning effort: {conversation.settings.reasoning_effort})"), flush=True)
    else:
        print(style.warn(f"{name} is not a command; /help lists them. To send it to the model, type //"
                         f"{line[1:]}"), flush=True)
    return False


def _run(args) -> int:
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if args.json_schema:
        try:
            args.structure = _read_schema(args.json_schema)
        except HearthError as error:
            print(str(error), file=sys.stderr)
            return exit_codes.USAGE
    loaded = _load(args)
    if isinstance(loaded, int):
        return loaded
    conversation, _ = loaded
    with _ctrl_c_cancels() as cancel:
        try:
            events = conversation.send(prompt, cancel=cancel)
            done = _print_json(events) if args.json else _print_answer(events, _Style(sys.stderr))
        except HearthError as error:
            return _fail(error)
        finally:
            _close(conversation)
    if done.reason == "error":
        print(done.error, file=sys.stderr)
        return exit_codes.FAILED
    if args.json_schema and done.reason == "length":
        print("The answer was cut off before its JSON was complete; allow a longer answer (--max-tokens) "
              "or less thinking (--reasoning-budget).", file=sys.stderr)
        return exit_codes.FAILED
    return exit_codes.STOPPED if done.reason == "cancelled" else exit_codes.OK


def _read_schema(path: str):
    """The `Structure` of `--json-schema FILE`; HearthError with a sentence when it cannot be used."""
    from pathlib import Path

    from core.chat.structured import JsonFormat, Structure, check_structure
    from core.errors import FileNotReadable, InvalidInput, why_unreadable

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise FileNotReadable(f"The schema file {path} cannot be read, because {why_unreadable(error)}.") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"The schema file {path} is not text.") from None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"The schema file {path} is not valid JSON ({error.msg}, line {error.lineno}).") from None
    if not isinstance(schema, dict):
        raise InvalidInput(f"The schema file {path} must hold a JSON schema object, such as "
                           '{"type": "object", "properties": {...}}.')
    name = "".join(c if c.isalnum() or c in "_-" else "_" for c in Path(path).stem)[:64] or "response"
    structure = Structure(JsonFormat(schema, name=name))
    check_structure(structure)
    return structure


def _load(args):
    """(Conversation, model name) for the options, or an exit code after printing why not."""
    from core.store.identity import find_model
    from core.system.policy_file import load_policy

    policy = load_policy()
    if args.server:
        if args.tools:
            print("--tools works with a model on this computer, not with --server.", file=sys.stderr)
            return exit_codes.USAGE
        return _load_remote(args, policy)
    if args.api_key_env:
        print("--api-key-env is for a model on a server (--server URL).", file=sys.stderr)
        return exit_codes.USAGE
    try:
        folder = find_model(args.model, policy)
    except PolicyForbids as refusal:
        print(f"Not loading the model: {refusal}", file=sys.stderr)
        return exit_codes.REFUSED
    except HearthError as error:
        return _fail(error)
    tools = builtin_tools(args.tools, policy)
    if isinstance(tools, int):
        return tools

    from core.chat.conversation import Conversation  # torch loads here, not for `hearth --help` or a refused model
    from core.chat.generate import GenerationSettings
    from core.chat.opener import open_model
    from core.engine.sampling import SamplingParams

    try:
        settings = GenerationSettings(SamplingParams(args.temperature, args.top_p, args.seed),
                                      max_new_tokens=DEFAULT_MAX_TOKENS if args.max_tokens is None else args.max_tokens,
                                      reasoning_effort=args.reasoning,
                                      reasoning_budget=args.reasoning_budget,
                                      structure=getattr(args, "structure", None))
        started = time.perf_counter()
        opened = open_model(folder, args.device, load_anyway=args.load_anyway)
    except HearthError as error:
        return _fail(error)
    print(f"Loaded {opened.name} in {time.perf_counter() - started:.1f} s.", file=sys.stderr, flush=True)
    if opened.model.notice:
        print(opened.model.notice, file=sys.stderr, flush=True)
    session = opened.model.new_session(args.context)
    return (Conversation(session, opened.tokenizer, system=args.system, settings=settings, builtin_tools=tools),
            opened.name)


def builtin_tools(names: tuple[str, ...], policy):
    """The chat's `BuiltinTools` for `--tools` (also `hearth serve`'s), or an exit code after
    saying why not: a tool the policy turns off, a library that cannot be searched, a computer
    where Python cannot run without network."""
    from core.chat.tool_turns import BuiltinTools

    try:
        for name in names:
            policy.check_builtin(name)
    except PolicyForbids as refusal:
        print(f"Not offering the model's tools: {refusal}", file=sys.stderr)
        return exit_codes.REFUSED
    library = None
    try:
        if "browser" in names:
            from core.docs import Library

            library = Library(policy=policy)
            if library.notice:
                print(library.notice, file=sys.stderr)
            if library.is_empty():
                print("(the document library is empty: the browser will find nothing until you add a folder "
                      "with `hearth docs add FOLDER`)", file=sys.stderr)
        if "python" in names:
            from core.sandbox import probe

            probe()  # SandboxUnavailable: said now, not at the model's first call
    except HearthError as error:
        print(f"Not offering the model's tools: {error}", file=sys.stderr)
        return exit_codes.FAILED
    return BuiltinTools(names, library=library)


def _close(conversation) -> None:
    close = getattr(conversation, "close", None)  # a remote chat has no tools to end
    if close is not None:
        close()


def _load_remote(args, policy):
    """(RemoteConversation, its name) for `--server`, or an exit code after printing why not."""
    from core.remote import ENV_VAR, RemoteConversation, RemoteModel, RemoteServer, RemoteSettings, api_key_for
    from core.system.server_url import ServerUrl

    structure = getattr(args, "structure", None)  # --json-schema: sent as the request's response_format
    answer_format = structure.json if structure is not None else None
    env_var = args.api_key_env or ENV_VAR
    if args.api_key_env and not os.environ.get(env_var, "").strip():
        print(f"The environment variable {env_var} (named by --api-key-env) is not set.", file=sys.stderr)
        return exit_codes.USAGE
    try:
        url = ServerUrl.parse(args.server)
        server = RemoteServer.open(url, api_key=api_key_for(url, env_var=env_var), policy=policy)
        settings = RemoteSettings(max_tokens=args.max_tokens, reasoning_effort=args.reasoning,
                                  temperature=args.temperature, top_p=args.top_p, seed=args.seed,
                                  json_schema=answer_format.schema if answer_format is not None else None,
                                  schema_name=answer_format.name if answer_format is not None else "response")
    except PolicyForbids as refusal:
        print(f"Not using the server: {refusal}", file=sys.stderr)
        return exit_codes.REFUSED
    except HearthError as error:
        return _fail(error)
    if args.reasoning_budget is not None:
        print("(--reasoning-budget is not sent to a server; its own limits apply)", file=sys.stderr)
    model = RemoteModel(server, args.model, api=args.api)
    if getattr(args, "prompt", None) is None:  # a chat: say now, not at the first message, if the model is there
        try:
            served = server.models()
        except HearthError as error:
            return _fail(error)
        if served and args.model not in served:
            print(f"The server at {server.name} has no model {args.model!r}; it serves: {', '.join(served)}.",
                  file=sys.stderr)
            return exit_codes.FAILED
    return RemoteConversation(model, system=args.system, settings=settings), model.name


def _show_chat_turn(events: Iterator[Event], style: _Style) -> None:
    answer, shown = Answer(), None  # shown: the kind of the last piece printed
    for event in events:
        if isinstance(event, PromptProgress):
            _progress(event, style, sys.stdout)
        for piece in answer.add(event):
            if piece.kind in ("notice", "problem"):
                print(style.warn(f"\n({piece.text})"), flush=True)
                continue
            if piece.kind in ("tool_running", "tool_result"):
                if piece.kind == "tool_result":
                    print(style.dim(_result_line(piece)), end="", flush=True)
                    shown = "tool_result"
                continue
            if piece.kind == "call":
                print(style.dim(f"\n[calling {piece.text}] "), end="", flush=True)
            elif piece.kind == "reasoning" and shown != "reasoning":
                print(("\n" if shown else "") + style.label("thinking"), flush=True)
            elif piece.kind == "content" and shown not in (None, "content"):
                print("\n" + style.label("answer"), flush=True)  # labelled only when something came before
            if piece.kind != "call":
                print(piece.text if piece.kind == "content" else style.dim(piece.text), end="", flush=True)
            shown = "call" if piece.kind == "arguments" else piece.kind
        if isinstance(event, Finished):
            print(flush=True)
            if event.reason == "cancelled":
                print(style.warn("(stopped)"), flush=True)
            elif event.reason == "error":
                print(style.warn(event.error or "The answer failed."), flush=True)
            print(style.dim(_figures(event)), flush=True)


def _print_answer(events: Iterator[Event], err: _Style) -> Finished:
    """The answer to stdout, everything else to stderr; returns the Finished event."""
    answer, shown = Answer(), None
    for event in events:
        if isinstance(event, PromptProgress):
            _progress(event, err, sys.stderr)
        for piece in answer.add(event):
            if piece.kind == "content":
                sys.stdout.write(piece.text)
                sys.stdout.flush()
            elif piece.kind == "reasoning":
                if shown != "reasoning":
                    print(err.label("thinking"), file=sys.stderr, flush=True)
                sys.stderr.write(err.dim(piece.text))
                sys.stderr.flush()
            elif piece.kind == "call" and answer.calls[piece.call].builtin:
                sys.stderr.write(err.dim(f"\n[calling {piece.text}] "))
            elif piece.kind == "call":
                print(err.warn(f"\n(the model asked for the tool {piece.text}; `hearth run` answers no function "
                               "calls)"), file=sys.stderr)
            elif piece.kind == "arguments":
                sys.stderr.write(err.dim(piece.text))
            elif piece.kind == "tool_result":
                sys.stderr.write(err.dim(_result_line(piece)))
            elif piece.kind == "tool_running":
                continue
            else:
                print(err.warn(f"\n({piece.text})"), file=sys.stderr)
            shown = piece.kind
        if isinstance(event, Finished):
            print(flush=True)
            print(err.dim(_figures(event)), file=sys.stderr, flush=True)
            return event
    raise AssertionError("generation ended without a Finished event")


def _result_line(piece: Piece) -> str:
    """A tool's result as the terminal shows it: its first lines and its last (where a traceback
    says what went wrong), cut short."""
    lines = [line.rstrip() for line in piece.text.strip().splitlines() if line.strip() and not _BARE.match(line)]
    if len(lines) > RESULT_LINES:
        lines = [*lines[:RESULT_LINES - 1], f"(… {len(lines) - RESULT_LINES} more lines)", lines[-1]]
    shown = "\n  ".join(line if len(line) <= RESULT_CHARS else line[:RESULT_CHARS - 1] + "…" for line in lines)
    return f"\n[result] {shown or '(no output)'}\n"


def _print_json(events: Iterator[Event]) -> Finished:
    for event in events:
        print(json.dumps({"type": type(event).__name__, **dataclasses.asdict(event)}, ensure_ascii=False),
              flush=True)
        if isinstance(event, Finished):
            return event
    raise AssertionError("generation ended without a Finished event")


def _progress(event: PromptProgress, style: _Style, stream) -> None:
    """A self-erasing "reading" line while a long prompt is processed (terminals only)."""
    if not style.on:
        return
    if event.done < event.total:
        stream.write("\r" + style.dim(f"(reading the conversation: {100 * event.done // event.total}%)"))
    else:
        stream.write("\r\x1b[K")
    stream.flush()


def _figures(done: Finished) -> str:
    parts = [f"{done.generated_tokens} tokens", f"{done.decode_tokens_per_second:.1f} tokens/s",
             f"first token after {done.time_to_first_token:.2f} s",
             f"prompt {done.prompt_tokens} tokens ({done.reused_tokens} reused, "
             f"{done.prompt_tokens_per_second:.0f} tokens/s)"]
    return "(" + ", ".join(parts) + ")"


@contextmanager
def _ctrl_c_cancels():
    """While generating, Ctrl-C asks the answer to stop instead of ending the program."""
    cancel = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield cancel
        return
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.set())
    try:
        yield cancel
    finally:
        signal.signal(signal.SIGINT, previous)


def _fail(error: Exception) -> int:
    print(str(error), file=sys.stderr)
    if isinstance(error, MemoryTight):
        print("To load it anyway, add --load-anyway.", file=sys.stderr)
    return exit_codes.FAILED


class _Style:
    """ANSI styling when writing to a terminal (and NO_COLOR is unset); plain text otherwise."""

    def __init__(self, stream):
        self.on = stream.isatty() and "NO_COLOR" not in os.environ

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.on and text else text

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def label(self, text: str) -> str:
        return self._wrap("1;2", f"[{text}]")

    def warn(self, text: str) -> str:
        return self._wrap("33", text)
