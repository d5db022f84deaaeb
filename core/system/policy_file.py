"""The policy file an administrator writes, read and checked: `load_policy()` (the policy
itself, what each setting means, is core/system/policy.py's). The file is TOML, by default `/etc/hearth/policy.toml`
(`%ProgramData%\\Hearth\\policy.toml` on Windows); `HEARTH_POLICY` names another file::

    # Shown to the person beside every locked setting.
    reason = "Set by ACME IT for the air-gapped lab (it-help@acme.example)."
    offline = true                      # offline mode forced on: Hearth never reaches the network
    downloads = false                   # model downloads disabled (import from a folder still works)
    models_dir = "/srv/hearth/models"   # the models folder is fixed (may be read-only)
    allowed_models = ["gpt-oss-20b"]    # only these models may be loaded
    reasoning_display = "collapsed"     # "shown", "collapsed" or "hidden"
    api_server = "loopback"             # "off", "loopback" (this machine only) or "network"
    servers = ["https://llm.acme.example/v1"]  # the only remote model servers (offline mode reaches these)
    local_models = false                # no model runs on this computer: only the servers above
    ca_bundle = "/etc/hearth/acme-ca.pem"  # the organisation's certificate authority, for those servers
    allow_plain_http = true             # unencrypted http:// to servers off this machine (default: refused)
    builtin_tools = ["browser"]         # the model's built-in tools a chat may use: "browser", "python"
    documents_folders = ["/srv/docs"]   # the only folders the document library may index (and the browser read)

Every key is optional; a key left out leaves that choice to the user. A file that cannot be
read, is not valid TOML, has an unknown key or a value of the wrong kind is refused as a
whole, with a sentence naming its line, and Hearth then runs in its most restrictive mode
(`Policy.most_restrictive`) rather than ignoring the administrator's intent.

A user controls their own environment, so `HEARTH_POLICY` cannot loosen the machine's file:
when both exist, both apply and the stricter value of each setting wins.
"""


from __future__ import annotations

import difflib
import os
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.errors import HearthError, InvalidInput
from core.system.policy import API_SERVER_MODES, BUILTIN_TOOLS, NO_POLICY, REASONING_DISPLAYS, SETTINGS, Policy
from core.system.server_url import ServerUrl
from core.system.toml_lines import key_lines

ENV_VAR = "HEARTH_POLICY"
_KEYS = {"reason", "ca_bundle", "allow_plain_http", *SETTINGS}  # every key a policy file may hold


def default_policy_path() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("PROGRAMDATA") or r"C:\ProgramData") / "Hearth" / "policy.toml"
    return Path("/etc/hearth/policy.toml")


def load_policy(environ: Mapping[str, str] | None = None, system_path: Path | None = None) -> Policy:
    """The policy in force: the machine's file (if it exists) and the `HEARTH_POLICY` file
    (which must exist when the variable is set), the stricter of the two. Never raises: a bad
    file yields `Policy.most_restrictive` with `error` saying what is wrong and on which line."""
    environ = os.environ if environ is None else environ
    system_path = system_path or default_policy_path()
    policy = NO_POLICY
    if _exists(system_path):
        policy = read_policy(system_path)
    if override := environ.get(ENV_VAR, "").strip():
        path = Path(override).expanduser()
        if path != system_path:
            policy = policy.stricter(read_policy(path)) if policy is not NO_POLICY else read_policy(path)
    return policy


def _exists(path: Path) -> bool:
    """Whether something is at `path`; when a folder on the way may not be opened, assume so:
    `read_policy` then says why, rather than the administrator's file being skipped in silence."""
    try:
        return path.exists()
    except OSError:
        return True


def read_policy(path: Path) -> Policy:
    """One policy file; a refused file gives the most restrictive policy with `error` set."""
    path = Path(path)
    try:
        return parse_policy(_read_text(path), path)
    except PolicyFileError as failure:
        return Policy.most_restrictive(str(failure), (path,))


class PolicyFileError(HearthError):
    """A policy file is not valid; the message names the file and line."""


def _read_text(path: Path) -> str:
    """The file's text; raises `PolicyFileError` with a sentence when it cannot be read."""
    try:
        raw = path.read_bytes()
    except OSError as failure:
        raise PolicyFileError(f"{path} cannot be read: {_why_unreadable(path, failure)}") from failure
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PolicyFileError(f"{path} is saved as UTF-16 text; save it as UTF-8 instead")
    try:
        text = raw.decode("utf-8-sig")  # the byte-order mark some Windows editors write is harmless
    except UnicodeDecodeError as failure:
        line = raw[:failure.start].replace(b"\r\n", b"\n").replace(b"\r", b"\n").count(b"\n") + 1
        raise PolicyFileError(f"{path}, line {line}: this line is not UTF-8 text (it holds the byte "
                              f"0x{raw[failure.start]:02X}); save the file as UTF-8") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # line ends as text files read them, as before


def _why_unreadable(path: Path, failure: OSError) -> str:
    # Sentences, not "[Errno 13] Permission denied". Windows refuses to open a folder with
    # PermissionError, hence the isdir() check on that branch too.
    if isinstance(failure, IsADirectoryError) or (isinstance(failure, PermissionError) and os.path.isdir(path)):
        return "it is a folder, not a file"
    if isinstance(failure, FileNotFoundError):
        return "there is no such file"
    if isinstance(failure, NotADirectoryError):
        return "part of its path is a file, not a folder"
    if isinstance(failure, PermissionError):
        return "Hearth is not allowed to open it (check the permissions of the file and its folders)"
    reason = (failure.strerror or "no reason given").rstrip(".")
    return f"the system says {reason[:1].lower()}{reason[1:]}"


_TOML_AT = re.compile(r"(?P<problem>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)",
                      re.DOTALL)


def _not_toml(path: Path, text: str, failure: tomllib.TOMLDecodeError) -> PolicyFileError:
    """tomllib's "Invalid value (at line 2, column 13)" as a sentence naming the file. tomllib
    says "at end of document" for a last line left unfinished (`offline =`): name that line."""
    match = _TOML_AT.fullmatch(str(failure))
    problem = match["problem"] if match else str(failure)
    last_line = text.rstrip().count("\n") + 1
    where = (f"{path}, line {match['line']}, column {match['column']}" if match and match["line"]
             else f"{path}, line {last_line} (the end of the file)" if match else str(path))
    return PolicyFileError(f"{where}: the file is not valid TOML ({problem[:1].lower()}{problem[1:]})")


def parse_policy(text: str, path: Path = Path("policy.toml")) -> Policy:
    """The policy `text` describes; raises `PolicyFileError` naming the line of the problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as failure:
        raise _not_toml(path, text, failure) from failure
    lines = key_lines(text)  # tomllib gives no positions

    def fail(key: str, problem: str) -> PolicyFileError:
        line = lines.get((key,))
        return PolicyFileError(f"{path}, line {line}: {problem}" if line else f"{path}: {problem}")

    for key in data:
        if key not in _KEYS:
            close = difflib.get_close_matches(key, sorted(_KEYS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(sorted(_KEYS))})"
            raise fail(key, f"unknown setting {key!r}{hint}")
    values: dict[str, Any] = {}
    for key in ("offline", "downloads", "local_models", "allow_plain_http"):
        if key in data:
            if not isinstance(data[key], bool):
                raise fail(key, f"{key} must be true or false, not {_shown(data[key])}")
            values[key] = data[key]
    if "reason" in data:
        if not isinstance(data["reason"], str):
            raise fail("reason", "reason must be text in quotes")
        values["reason"] = data["reason"].strip()
    if "models_dir" in data:
        folder = data["models_dir"]
        if not isinstance(folder, str) or not folder.strip():
            raise fail("models_dir", "models_dir must be a folder path in quotes")
        if not Path(folder).expanduser().is_absolute():
            raise fail("models_dir", f"models_dir must be an absolute path, not {folder!r}")
        values["models_dir"] = Path(folder).expanduser()
    if "allowed_models" in data:
        models = data["allowed_models"]
        if not isinstance(models, list) or not all(isinstance(m, str) and m.strip() for m in models):
            raise fail("allowed_models", 'allowed_models must be a list of model names, e.g. ["gpt-oss-20b"]')
        values["allowed_models"] = frozenset(m.strip() for m in models)
    if "servers" in data:
        values["servers"] = _servers(data["servers"], fail)
    if "builtin_tools" in data:
        tools = data["builtin_tools"]
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            raise fail("builtin_tools", 'builtin_tools must be a list of tool names, e.g. ["browser"] ([] for none)')
        unknown = [t for t in tools if t not in BUILTIN_TOOLS]
        if unknown:
            raise fail("builtin_tools", f"builtin_tools names {unknown[0]!r}; the model's built-in tools are "
                                        f"{' and '.join(repr(t) for t in BUILTIN_TOOLS)}")
        values["builtin_tools"] = frozenset(tools)
    if "documents_folders" in data:
        folders = data["documents_folders"]
        example = 'documents_folders must be a list of folder paths, e.g. ["/srv/docs"] ([] for none)'
        if not isinstance(folders, list) or not all(isinstance(f, str) and f.strip() for f in folders):
            raise fail("documents_folders", example)
        paths = [Path(f).expanduser() for f in folders]
        relative = next((f for f, p in zip(folders, paths, strict=True) if not p.is_absolute()), None)
        if relative is not None:
            raise fail("documents_folders", f"documents_folders must hold absolute paths, not {relative!r}")
        values["documents_folders"] = tuple(dict.fromkeys(paths))
    if "ca_bundle" in data:
        bundle = data["ca_bundle"]
        if not isinstance(bundle, str) or not bundle.strip():
            raise fail("ca_bundle", "ca_bundle must be the path of a certificate file in quotes")
        if not Path(bundle).expanduser().is_absolute():
            raise fail("ca_bundle", f"ca_bundle must be an absolute path, not {bundle!r}")
        values["ca_bundle"] = Path(bundle).expanduser()
    for key, choices in (("reasoning_display", REASONING_DISPLAYS), ("api_server", API_SERVER_MODES)):
        if key in data:
            if data[key] not in choices:
                raise fail(key, f"{key} must be one of {', '.join(repr(c) for c in choices)}, "
                            f"not {_shown(data[key])}")
            values[key] = data[key]
    return replace(Policy(**values), sources=(path,))


def _servers(value: Any, fail) -> tuple[str, ...]:
    example = 'servers must be a list of server addresses, e.g. ["https://llm.example.internal/v1"]'
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise fail("servers", example)
    servers = []
    for text in value:
        try:
            servers.append(str(ServerUrl.parse(text)))
        except InvalidInput as failure:
            raise fail("servers", f"in servers, {failure}") from None
    return tuple(servers)


def _shown(value: Any) -> str:
    """A wrong value as the administrator would recognise it: `[downloads]` is "a table"."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return "a list of tables"
    return repr(value)
