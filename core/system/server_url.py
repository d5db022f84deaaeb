"""The address of a remote OpenAI-compatible server, as the policy names it and a person types it.

Owns parsing and normalising a base URL (`https://llm.example.internal/v1`) into its parts,
the origin that identifies the server (scheme, host, port: the path is not part of which
server it is), and whether it stays on this machine. The policy compares servers by origin,
the egress guard lets through its host and port, and the remote client sends to its URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from core.errors import InvalidInput

DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class ServerUrl:
    """`https://llm.example.internal:8443/v1` as scheme "https", host "llm.example.internal",
    port 8443 and path "/v1". Hosts are lower case; IPv6 hosts have no brackets."""

    scheme: str
    host: str
    port: int
    path: str = ""

    @classmethod
    def parse(cls, text: str) -> ServerUrl:
        """The URL `text` names; `InvalidInput` with a sentence when it is not a server's address."""
        shown = text.strip()
        try:
            parts = urlsplit(shown)
            port = parts.port
        except ValueError as failure:
            raise InvalidInput(f"{shown!r} is not a server address ({failure}).") from None
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise InvalidInput(f"{shown!r} is not a server address: it must start with https:// (or http://), "
                               "as in https://llm.example.internal/v1.")
        if not parts.hostname:
            raise InvalidInput(f"{shown!r} names no server: write it as https://NAME/v1.")
        if parts.username or parts.password:
            raise InvalidInput(f"{shown!r} holds a user name or password; give the API key separately instead.")
        if parts.query or parts.fragment:
            raise InvalidInput(f"{shown!r} must not end in ?... or #...: give the server's base address, "
                               "such as https://llm.example.internal/v1.")
        return cls(scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme],
                   parts.path.rstrip("/"))

    @property
    def origin(self) -> tuple[str, str, int]:
        """Which server this is: the same scheme, host and port is the same server."""
        return self.scheme, self.host, self.port

    @property
    def endpoint(self) -> tuple[str, int]:
        """The host and port a connection goes to."""
        return self.host, self.port

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    @property
    def plain_http(self) -> bool:
        return self.scheme == "http"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.path}"

    def join(self, route: str) -> str:
        """The URL of `route` ("/chat/completions") under this base URL."""
        return f"{self}/{route.lstrip('/')}"
