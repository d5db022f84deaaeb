"""A remote OpenAI-compatible server as Hearth talks to it: its address, API key, the
organisation's certificate authority, time limits, and the HTTP client that goes with them.

`RemoteServer.open(url, api_key=..., policy=...)` is the one way in: it checks the address
against the organisation's policy (approved servers, plain HTTP) before any connection, and
takes the policy's `ca_bundle`. `models()` lists what the server serves (for a Models menu).

The client goes straight to the server: proxy variables and .netrc are not read (trust_env
off), so the destination is exactly the approved address the egress guard lets through.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx

from core.errors import why_unreadable
from core.remote.errors import CertificateNotTrusted, RemoteError, for_status, for_transport
from core.system.policy import Policy
from core.system.server_url import ServerUrl

CONNECT_TIMEOUT = 10.0  # seconds to open a connection: a server on the same network answers far sooner
READ_TIMEOUT = 300.0  # seconds between two pieces of an answer: a busy server may read a long prompt first
USER_AGENT = "Hearth"


@dataclass(frozen=True)
class RemoteServer:
    """Where the model runs. Build it with `open`; `api_key` is never shown in its repr."""

    url: ServerUrl
    api_key: str | None = field(default=None, repr=False)
    ca_bundle: Path | None = None
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT

    @classmethod
    def open(cls, url: str | ServerUrl, *, api_key: str | None = None, policy: Policy | None = None,
             **timeouts: float) -> RemoteServer:
        """The server at `url`, once the policy allows it; `PolicyForbids` (with the policy's
        reason) when it does not, `InvalidInput` when `url` is no server address."""
        url = url if isinstance(url, ServerUrl) else ServerUrl.parse(url)
        policy = policy or Policy()
        policy.check_server(url)
        return cls(url, api_key or None, policy.ca_bundle, **timeouts)

    @property
    def name(self) -> str:
        """How a person knows the server: its address without the scheme and path."""
        return self.url.netloc

    def client(self) -> httpx.Client:
        """An HTTP client for this server (close it after use)."""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json, text/event-stream"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        timeout = httpx.Timeout(connect=self.connect_timeout, read=self.read_timeout, write=60.0, pool=10.0)
        return httpx.Client(headers=headers, timeout=timeout, verify=self._tls(), trust_env=False,
                            follow_redirects=False)

    def _tls(self) -> ssl.SSLContext | bool:
        if self.ca_bundle is None:
            return True  # the system's trusted authorities
        try:
            return ssl.create_default_context(cafile=str(self.ca_bundle))
        except ssl.SSLError as failure:
            raise CertificateNotTrusted(
                f"The organisation's certificate file {self.ca_bundle} (ca_bundle in the policy) holds no "
                "certificate Hearth can use: it must be PEM text (-----BEGIN CERTIFICATE-----).",
                advice="Tell your administrator.", details=str(failure)) from None
        except OSError as failure:  # after SSLError, which is one too
            raise CertificateNotTrusted(
                f"The organisation's certificate file {self.ca_bundle} (ca_bundle in the policy) cannot be read, "
                f"because {why_unreadable(failure)}.", advice="Tell your administrator.") from None

    @contextmanager
    def request(self, client: httpx.Client, method: str, route: str, *, model: str = "",
                body: dict[str, Any] | None = None,
                trace: Callable[[str, dict[str, Any]], None] | None = None) -> Iterator[httpx.Response]:
        """A streamed response to `route` ("chat/completions"); an HTTP error or a failure to
        connect is raised as the `RemoteError` that says it. Failures while the caller reads
        the response are the caller's to word (it knows what already arrived)."""
        opened = False
        try:
            extensions = {"trace": trace} if trace is not None else None
            with client.stream(method, self.url.join(route), json=body, extensions=extensions) as response:
                if response.status_code >= 400:
                    raise for_status(response.status_code, response.read(), response.headers, server=self.name,
                                     model=model, has_key=bool(self.api_key))
                if 300 <= response.status_code < 400:
                    where = response.headers.get("location", "another address")
                    raise RemoteError(f"The server at {self.name} sends Hearth to {where} instead.",
                                      advice="Use that address (as the administrator approved it).")
                opened = True
                yield response
        except httpx.TransportError as failure:
            if opened:
                raise
            raise for_transport(failure, server=self.name, host=self.url.host,
                                connect_timeout=self.connect_timeout, read_timeout=self.read_timeout) from failure

    def models(self) -> list[str]:
        """The ids of the models the server serves (`GET /models`)."""
        with self.client() as client, self.request(client, "GET", "models") as response:
            try:
                listed = json.loads(response.read()).get("data") or []
            except (ValueError, AttributeError, httpx.TransportError) as failure:
                raise RemoteError(f"The server at {self.name} did not list its models in a form Hearth reads.",
                                  details=str(failure)) from None
        return [m["id"] for m in listed if isinstance(m, dict) and isinstance(m.get("id"), str)]
