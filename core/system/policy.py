"""The machine-wide policy an administrator sets and a user cannot override: what each setting
means, the questions the rest of Hearth asks it ("may this model load?", "is this server
approved?"), the reason shown beside every locked setting, and how two policies combine (the
stricter value of each setting wins). Reading the file is core/system/policy_file.py's
(`load_policy`), which documents its keys.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from core.errors import HearthError
from core.system.server_url import ServerUrl

REASONING_DISPLAYS = ("shown", "collapsed", "hidden")  # least to most restrictive
API_SERVER_MODES = ("network", "loopback", "off")  # least to most restrictive
SETTINGS = ("offline", "downloads", "models_dir", "allowed_models", "reasoning_display", "api_server", "servers",
            "local_models", "builtin_tools", "documents_folders")
BUILTIN_TOOLS = ("browser", "python")  # gpt-oss's built-in tools (core/chat/builtin_tools.py)


class PolicyForbids(HearthError):
    """The administrator's policy does not allow what was asked; `str()` says what and why."""


@dataclass(frozen=True)
class Policy:
    """What the administrator has locked. `None` (or the permissive default) means "the user
    chooses". Query it with the properties and `locked()` / `lock_reason()`; never mutate it.

    `error` is set when a policy file was refused: the values are then the most restrictive
    ones and every lock reason says so.
    """

    offline: bool | None = None
    downloads: bool | None = None
    models_dir: Path | None = None
    allowed_models: frozenset[str] | None = None
    reasoning_display: str | None = None
    api_server: str | None = None
    # The remote servers that may be used (base URLs as written, compared by origin); () none at all.
    servers: tuple[str, ...] | None = None
    local_models: bool | None = None  # False: models may not run on this computer
    ca_bundle: Path | None = None  # PEM file of the certificate authority that signs the servers' TLS
    allow_plain_http: bool | None = None  # True: http:// to servers off this machine (otherwise refused)
    builtin_tools: frozenset[str] | None = None  # the built-in tools a chat may offer; frozenset() none
    documents_folders: tuple[Path, ...] | None = None  # the folders the document library may hold; () none
    reason: str = ""  # the administrator's own words, shown with every lock
    sources: tuple[Path, ...] = ()
    error: str | None = None

    # -- construction -------------------------------------------------------------------
    @classmethod
    def most_restrictive(cls, error: str, sources: Iterable[Path] = ()) -> Policy:
        """Offline, no downloads, no API server, no model allowed, reasoning hidden: what a
        broken policy file means until an administrator fixes it."""
        return cls(offline=True, downloads=False, allowed_models=frozenset(), reasoning_display="hidden",
                   api_server="off", servers=(), builtin_tools=frozenset(), documents_folders=(),
                   sources=tuple(sources), error=error)

    # -- questions the rest of Hearth asks ------------------------------------------------
    @property
    def offline_forced(self) -> bool:
        """True when offline mode is on and the user cannot turn it off."""
        return self.offline is True

    @property
    def downloads_allowed(self) -> bool:
        """False when downloads are disabled (or offline mode is forced, which implies it)."""
        return self.downloads is not False and not self.offline_forced

    @property
    def api_server_allowed(self) -> bool:
        return self.api_server != "off"

    def effective_offline(self, user_choice: bool) -> bool:
        """The offline mode to apply, given what the user picked in settings."""
        return True if self.offline_forced else user_choice

    def effective_models_dir(self, user_choice: Path | None) -> Path | None:
        """The models folder to use, given the user's choice (None = the core's default)."""
        return self.models_dir if self.models_dir is not None else user_choice

    def effective_reasoning_display(self, user_choice: str) -> str:
        return self.reasoning_display or user_choice

    def allows_model(self, model_id: str) -> bool:
        """Whether the model with this catalogue id (or folder name) may be loaded."""
        return self.allowed_models is None or model_id in self.allowed_models

    def check_model(self, model_id: str) -> None:
        """Raises `PolicyForbids` when `model_id` may not be loaded on this computer."""
        if self.local_models is False:
            servers = f" ({', '.join(self.servers)})" if self.servers else ""
            raise PolicyForbids(f"Models do not run on this computer: it uses your organisation's server{servers}. "
                                f"{self.lock_reason('local_models')}")
        if self.allows_model(model_id):
            return
        if self.allowed_models:
            allowed = ", ".join(sorted(self.allowed_models))
            raise PolicyForbids(f"The model {model_id!r} is not allowed on this computer (allowed: {allowed}). "
                                f"{self.lock_reason('allowed_models')}")
        raise PolicyForbids(f"No model is allowed on this computer. {self.lock_reason('allowed_models')}")

    def check_download(self) -> None:
        """Raises `PolicyForbids` when downloads are disabled."""
        if not self.downloads_allowed:
            setting = "offline" if self.offline_forced else "downloads"
            raise PolicyForbids(f"Downloading models is turned off on this computer. {self.lock_reason(setting)} "
                                "Import the model from a folder instead.")

    def check_api_server(self, host: str) -> None:
        """Raises `PolicyForbids` when an API server may not listen on `host`."""
        if self.api_server == "off":
            raise PolicyForbids(f"The local API server is turned off on this computer. "
                                f"{self.lock_reason('api_server')}")
        if self.api_server == "loopback" and not is_loopback_host(host):
            raise PolicyForbids(f"The API server may only listen on this computer (127.0.0.1), not on {host}. "
                                f"{self.lock_reason('api_server')}")

    def allows_server(self, url: ServerUrl) -> bool:
        """Whether the remote server at `url` is one the policy approves (any, without a list)."""
        return self.servers is None or url.origin in {ServerUrl.parse(s).origin for s in self.servers}

    def check_server(self, url: ServerUrl) -> None:
        """Raises `PolicyForbids` when Hearth may not send a conversation to the server at `url`:
        one not in `servers`, or plain HTTP off this machine without `allow_plain_http`."""
        if not self.allows_server(url):
            if not self.servers:
                raise PolicyForbids(f"No remote server may be used on this computer, so not {url}. "
                                    f"{self.lock_reason('servers')}")
            approved = ", ".join(self.servers)
            raise PolicyForbids(f"The server {url} is not one your organisation approved (approved: {approved}). "
                                f"{self.lock_reason('servers')}")
        if url.plain_http and not is_loopback_host(url.host) and self.allow_plain_http is not True:
            raise PolicyForbids(f"{url} uses plain http://, which would send the conversation over the network "
                                "unencrypted. Use its https:// address; an administrator can allow plain HTTP "
                                "with allow_plain_http = true in the policy file.")

    def allows_builtin(self, name: str) -> bool:
        """Whether a chat may offer the model's built-in tool `name` ("browser", "python")."""
        return self.builtin_tools is None or name in self.builtin_tools

    def check_builtin(self, name: str) -> None:
        """Raises `PolicyForbids` when the built-in tool `name` may not be offered."""
        if self.allows_builtin(name):
            return
        what = {"browser": "searching your documents (the model's browser tool)",
                "python": "running Python (the model's python tool)"}.get(name, f"the model's {name} tool")
        allowed = f" (allowed: {', '.join(sorted(self.builtin_tools))})" if self.builtin_tools else ""
        raise PolicyForbids(f"{what[:1].upper()}{what[1:]} is turned off on this computer{allowed}. "
                            f"{self.lock_reason('builtin_tools')}")

    def allows_documents_folder(self, folder: str | Path) -> bool:
        """Whether the document library may hold `folder` (an absolute path): it is, or is inside,
        one of `documents_folders`."""
        if self.documents_folders is None:
            return True
        path = Path(folder)
        return any(path.is_relative_to(allowed) or path.is_relative_to(_resolved(allowed))
                   for allowed in self.documents_folders)

    def check_documents_folder(self, folder: str | Path) -> None:
        """Raises `PolicyForbids` when the document library may not index `folder`."""
        if self.allows_documents_folder(folder):
            return
        if not self.documents_folders:
            raise PolicyForbids(f"No folder may be added to the document library on this computer, so not {folder}. "
                                f"{self.lock_reason('documents_folders')}")
        allowed = ", ".join(map(str, self.documents_folders))
        raise PolicyForbids(f"{folder} may not be added to the document library: only folders inside {allowed} may. "
                            f"{self.lock_reason('documents_folders')}")

    def approved_endpoints(self) -> frozenset[tuple[str, int]]:
        """The (host, port) of every approved server: what offline mode still lets through."""
        return frozenset(ServerUrl.parse(s).endpoint for s in self.servers or ())

    # -- what the settings screen shows ---------------------------------------------------
    def locked(self, setting: str) -> bool:
        """Whether the user may not change `setting` (one of `SETTINGS`)."""
        if setting not in SETTINGS:
            raise KeyError(f"unknown policy setting {setting!r}")
        value = getattr(self, setting)
        if setting == "offline":
            return self.offline_forced
        if setting == "downloads":
            return not self.downloads_allowed
        return value is not None and value != "network"

    def lock_reason(self, setting: str) -> str | None:
        """"Locked because ..." for a locked setting, None for a free one."""
        if not self.locked(setting):
            return None
        if self.error:
            return (f"Locked because the organisation's policy file could not be used ({self.error}); "
                    "Hearth runs in its most restrictive mode until an administrator fixes it.")
        where = ", ".join(str(p) for p in self.sources) or "the policy"
        because = f"Locked by your organisation's policy ({where})"
        if setting == "downloads" and self.downloads is not False:
            because += ", which forces offline mode"
        return f"{because}. {self.reason}".strip() if self.reason else f"{because}."

    def locks(self) -> dict[str, str]:
        """Every locked setting and its reason, in `SETTINGS` order."""
        return {s: reason for s in SETTINGS if (reason := self.lock_reason(s)) is not None}

    def stricter(self, other: Policy) -> Policy:
        """Both policies at once: the more restrictive value of each setting."""
        if self.error or other.error:
            error = "; ".join(e for e in (self.error, other.error) if e)
            return Policy.most_restrictive(error, self.sources + other.sources)

        def pick(a, b, order=None):
            if a is None or b is None:
                return b if a is None else a
            return max(a, b, key=order.index) if order else a

        allowed_plain = (True if self.allow_plain_http and other.allow_plain_http
                         else False if False in (self.allow_plain_http, other.allow_plain_http) else None)
        allowed = (self.allowed_models & other.allowed_models
                   if self.allowed_models is not None and other.allowed_models is not None
                   else self.allowed_models if self.allowed_models is not None else other.allowed_models)
        return Policy(
            offline=True if True in (self.offline, other.offline) else pick(self.offline, other.offline),
            downloads=False if False in (self.downloads, other.downloads) else pick(self.downloads, other.downloads),
            # The machine's own folder (self, loaded first) wins: two fixed folders cannot both hold.
            models_dir=pick(self.models_dir, other.models_dir),
            allowed_models=allowed,
            reasoning_display=pick(self.reasoning_display, other.reasoning_display, REASONING_DISPLAYS),
            api_server=pick(self.api_server, other.api_server, API_SERVER_MODES),
            servers=_both_servers(self, other),
            local_models=False if False in (self.local_models, other.local_models)
            else pick(self.local_models, other.local_models),
            ca_bundle=pick(self.ca_bundle, other.ca_bundle),  # the machine's own, like models_dir
            # Not said means not allowed: a user's file cannot allow what the machine's left unsaid.
            allow_plain_http=allowed_plain,
            builtin_tools=(self.builtin_tools & other.builtin_tools
                           if self.builtin_tools is not None and other.builtin_tools is not None
                           else self.builtin_tools if self.builtin_tools is not None else other.builtin_tools),
            documents_folders=_both_folders(self.documents_folders, other.documents_folders),
            reason=" ".join(r for r in (self.reason, other.reason) if r),
            sources=self.sources + other.sources,
        )


NO_POLICY = Policy()


def _both_servers(a: Policy, b: Policy) -> tuple[str, ...] | None:
    """The servers both policies approve. A policy that forces offline mode without naming any
    approves none: the other file's list must not open a way out that it closed."""
    def approved(p: Policy) -> tuple[str, ...] | None:
        return () if p.servers is None and p.offline_forced else p.servers

    first, second = approved(a), approved(b)
    if first is None or second is None:
        return second if first is None else first
    both = {ServerUrl.parse(s).origin for s in second}
    return tuple(s for s in first if ServerUrl.parse(s).origin in both)


def _resolved(path: Path) -> Path:
    """`path` with its links resolved, as the library stores folders; as written where that fails."""
    try:
        return path.resolve()
    except OSError:
        return path


def _both_folders(a: tuple[Path, ...] | None, b: tuple[Path, ...] | None) -> tuple[Path, ...] | None:
    """The folders both lists allow: each folder of one that lies inside a folder of the other."""
    if a is None or b is None:
        return b if a is None else a

    def inside(path: Path, folders: tuple[Path, ...]) -> bool:
        return any(path.is_relative_to(f) for f in folders)

    return tuple(dict.fromkeys([*(p for p in a if inside(p, b)), *(p for p in b if inside(p, a))]))


def is_loopback_host(host: str) -> bool:
    """Whether `host` (a name or address to listen on or connect to) stays on this machine."""
    host = host.strip().strip("[]").split("%", 1)[0].lower().rstrip(".")
    if host in ("localhost", "ip6-localhost", "ip6-loopback") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback

