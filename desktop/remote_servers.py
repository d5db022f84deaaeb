"""The remote servers the window offers models from: the ones the organisation's policy
approves (`servers` in the policy file: always listed, never removed here) and the ones the
person added (their address and API kind kept in the settings; their API key in the system
keyring, core/remote/api_keys.py).

A remote model is named as a person says it, "gpt-oss-120b on llm.example.internal"
(`core.remote.RemoteModel.name`), and that name is what the Models menu lists, the status bar
shows, the history records and the settings keep as the model to load at start; `model()`
turns it back into the `RemoteModel` to talk to, checking the policy on the way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from core.errors import HearthError
from core.remote import RemoteModel, RemoteServer
from core.system.policy import Policy
from core.system.server_url import ServerUrl
from desktop.settings import Settings

APIS = ("chat", "responses")  # chat completions (every server), or the Responses API
ON = " on "  # between the model's id and the server's name


def model_id_of(name: str) -> str:
    """The model's own id in a remote model's name: "gpt-oss-120b" of "gpt-oss-120b on llm.example.internal"."""
    return name.rpartition(ON)[0] or name


@dataclass(frozen=True)
class ServerEntry:
    url: ServerUrl
    api: str = "chat"
    from_policy: bool = False  # approved by the organisation: listed always, not removable here

    @property
    def name(self) -> str:
        """How a person knows the server: "llm.example.internal" (a port only when not the default)."""
        return self.url.netloc

    def model_name(self, model_id: str) -> str:
        return f"{model_id}{ON}{self.name}"


class RemoteServers:
    def __init__(self, settings: Settings, policy: Policy):
        self.settings, self.policy = settings, policy

    def entries(self) -> list[ServerEntry]:
        """The policy's servers first, then the person's that the policy allows, one per server."""
        listed: list[ServerEntry] = []
        seen: set[tuple[str, str, int]] = set()
        for text in self.policy.servers or ():
            url = ServerUrl.parse(text)
            if url.origin not in seen:
                seen.add(url.origin)
                listed.append(ServerEntry(url, from_policy=True))
        for entry in self._added():
            if entry.url.origin not in seen and self.policy.allows_server(entry.url):
                seen.add(entry.url.origin)
                listed.append(entry)
        return listed

    def add(self, address: str, api: str = "chat") -> ServerEntry:
        """Keeps the server at `address` (`InvalidInput` for no address, `PolicyForbids` for
        one the policy refuses: both say why). Adding a server again changes its API kind."""
        if api not in APIS:
            raise ValueError(f"api must be one of {APIS}, not {api!r}")
        url = ServerUrl.parse(address)
        self.policy.check_server(url)
        entry = ServerEntry(url, api)
        kept = [e for e in self._added() if e.url.origin != url.origin]
        self._store([*kept, entry])
        return entry

    def remove(self, url: ServerUrl) -> None:
        self._store([e for e in self._added() if e.url.origin != url.origin])

    def find(self, name: str) -> tuple[ServerEntry, str] | None:
        """(the server, the model's id) a name of the form "MODEL on SERVER" stands for; None
        for any other name (a local model's)."""
        model_id, on, server = name.rpartition(ON)
        if not on or not model_id:
            return None
        entry = next((e for e in self.entries() if e.name == server), None)
        return (entry, model_id) if entry is not None else None

    def model(self, name: str) -> RemoteModel | None:
        """The remote model `name` stands for, without its API key (the inference worker looks
        that up, off the window's thread); None when `name` is no remote model's. `PolicyForbids`
        when the policy does not allow its server."""
        found = self.find(name)
        if found is None:
            return None
        entry, model_id = found
        return RemoteModel(RemoteServer.open(entry.url, policy=self.policy), model_id, api=entry.api)

    # -- the settings ----------------------------------------------------------------------
    def _added(self) -> list[ServerEntry]:
        try:
            stored = json.loads(self.settings.remote_servers)
        except ValueError:
            return []
        entries = []
        for item in stored if isinstance(stored, list) else ():
            try:
                api = item.get("api", "chat")
                entries.append(ServerEntry(ServerUrl.parse(item["url"]), api if api in APIS else "chat"))
            except (AttributeError, KeyError, TypeError, ValueError, HearthError):
                continue  # an entry edited by hand into nonsense: skipped, the rest kept
        return entries

    def _store(self, entries: list[ServerEntry]) -> None:
        self.settings.remote_servers = json.dumps([{"url": str(e.url), "api": e.api} for e in entries])
