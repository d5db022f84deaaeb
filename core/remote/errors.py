"""What can go wrong talking to a remote model server, as typed errors whose `str()` is a
sentence a person understands: `for_status` (the server answered with an HTTP error) and
`for_transport` (no answer, a certificate not trusted, a stream cut short).

Each sentence says what happened in plain words and what the person can do; the server's own
message is kept in `details` (for a bug report), and quoted only where it helps (a refused
request says why)."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Mapping

from core.errors import HearthError, OfflineMode
from core.system import egress


class RemoteError(HearthError):
    """The remote model server could not give an answer."""


class ServerUnreachable(RemoteError):
    """No connection: the server is down, the address is wrong, or the network is."""


class CertificateNotTrusted(RemoteError):
    """The server's TLS certificate could not be verified."""


class NotAuthorized(RemoteError):
    """401/403: the API key is missing, wrong, or not allowed this model."""


class ModelGone(RemoteError):
    """404: the model is not (or no longer) on the server, or the address has no API."""


class ServerBusy(RemoteError):
    """429: too many requests for now."""


class ServerFailed(RemoteError):
    """5xx: the server broke while answering."""


class RequestRefused(RemoteError):
    """400/422 and the like: the server refused what was asked (e.g. a conversation too long)."""


class StreamDropped(RemoteError):
    """The answer stopped arriving before it was complete."""


class RemoteOffline(RemoteError, OfflineMode):
    """Offline mode refused the connection: the server is neither on this computer nor approved."""


def server_message(body: bytes) -> str:
    """The error message in an OpenAI-shaped error body (`{"error": {"message": ...}}`, or
    vLLM's and llama.cpp's variants), else the start of the body's text."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300]
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict):
        message = error.get("message") or error.get("detail") or error.get("msg")
        if isinstance(message, str):
            return message.strip()
    if isinstance(error, str):
        return error.strip()
    if isinstance(data, dict) and isinstance(data.get("detail"), str):  # FastAPI's default shape
        return data["detail"].strip()
    return text[:300]


def for_status(status: int, body: bytes, headers: Mapping[str, str], *, server: str, model: str,
               has_key: bool) -> RemoteError:
    """The error for an HTTP error answer from `server` (its address as shown to a person)."""
    said = server_message(body)
    details = f"HTTP {status}: {said}" if said else f"HTTP {status}"
    if status == 401:
        if has_key:
            return NotAuthorized(f"The server at {server} did not accept the API key (it answered 401).",
                                 advice="Check the key, or ask the server's administrator for a new one.",
                                 details=details)
        return NotAuthorized(f"The server at {server} needs an API key, and none was given.",
                             advice="Enter it in Hearth's Servers window (Model menu, Servers…), "
                                    "or set HEARTH_REMOTE_API_KEY.",
                             details=details)
    if status == 403:
        return NotAuthorized(f"The server at {server} does not allow this API key to use {model} (it answered 403).",
                             advice="Ask the server's administrator for access.", details=details)
    if status == 404:
        if "model" in said.lower():
            return ModelGone(f"The model {model} is not on the server at {server} (any more).",
                             advice="It may have been removed or renamed: choose one of the server's models.",
                             details=details)
        return ModelGone(f"There is no model API at {server} (it answered 404).",
                         advice="Check the address: it usually ends in /v1.", details=details)
    if status == 429:
        wait = _retry_after(headers)
        when = f"in {wait}" if wait else "in a minute"
        return ServerBusy(f"The server at {server} is busy with other requests right now.",
                          advice=f"Try again {when}.", details=details)
    if status in (502, 503, 504):
        return ServerFailed(f"The server at {server} is not available right now (it answered {status}): it may be "
                            "starting, restarting or overloaded.", advice="Try again in a minute.", details=details)
    if status >= 500:
        return ServerFailed(f"The server at {server} had a problem and could not answer (error {status}).",
                            advice="Try again; if it keeps happening, tell the server's administrator.",
                            details=details)
    reason = f": {said}" if said else "."
    return RequestRefused(f"The server at {server} refused the request (error {status}){reason}", details=details)


def _retry_after(headers: Mapping[str, str]) -> str | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "").strip()
    if not value.isdigit():
        return None
    seconds = int(value)
    return f"{seconds} seconds" if seconds < 120 else f"{round(seconds / 60)} minutes"


def for_transport(failure: BaseException, *, server: str, host: str, connect_timeout: float | None = None,
                  read_timeout: float | None = None, streaming: bool = False) -> RemoteError:
    """The error for a failure below HTTP: no connection, an untrusted certificate, offline
    mode's refusal, a timeout, or (`streaming`) an answer cut off part-way."""
    chain = list(_causes(failure))
    names = {type(f).__name__ for f in chain}
    if any(isinstance(f, OfflineMode) for f in chain):
        installed = egress.guard()
        locked = installed is not None and installed.locked_reason is not None
        return RemoteOffline(f"Offline mode is on, so Hearth did not connect to {server}: it connects only to this "
                             "computer and to the servers your organisation's policy approves.",
                             advice="Ask your administrator to add it to the policy's servers." if locked else
                             "Turn offline mode off in Settings to use this server, or ask your administrator to "
                             "add it to the policy's servers.", details=_details(chain))
    certificate = next((f for f in chain if isinstance(f, ssl.SSLCertVerificationError)), None)
    if certificate is not None:
        why = (certificate.verify_message or "").rstrip(".")
        return CertificateNotTrusted(
            f"Hearth could not confirm that {server} is really your organisation's server: its certificate is "
            f"not trusted by this computer ({why}).",
            advice="If your organisation uses its own certificate authority, the administrator sets its file with "
                   "ca_bundle in the policy.", details=_details(chain))
    if any(isinstance(f, ssl.SSLError) for f in chain):
        return CertificateNotTrusted(f"A secure connection to {server} could not be set up.",
                                     advice="Check that the address starts with the right https:// or http://.",
                                     details=_details(chain))
    if streaming:
        if names & {"ReadTimeout"}:
            return StreamDropped(f"The server at {server} stopped sending the answer for {_seconds(read_timeout)}, so "
                                 "Hearth stopped waiting; the part above is what arrived.", details=_details(chain))
        return StreamDropped(f"The connection to {server} was lost before the answer was complete; the part above "
                             "is what arrived.", details=_details(chain))
    if names & {"ConnectTimeout", "PoolTimeout"}:
        return ServerUnreachable(f"The server at {server} did not answer within {_seconds(connect_timeout)}.",
                                 advice="Check that it is running and that this computer is on its network.",
                                 details=_details(chain))
    if names & {"ReadTimeout", "WriteTimeout"}:
        return ServerUnreachable(f"The server at {server} took more than {_seconds(read_timeout)} to start answering.",
                                 advice="It may be very busy; try again.", details=_details(chain))
    if any(isinstance(f, ConnectionRefusedError) for f in chain) or "ConnectError" in names:
        if _name_not_found(chain):
            return ServerUnreachable(f"Hearth could not find the server {host}: this computer does not know that "
                                     "name.", advice="Check the address, and that this computer is on the "
                                                     "organisation's network.", details=_details(chain))
        return ServerUnreachable(f"Hearth could not reach the server at {server}.",
                                 advice="Check that the server is running and that this computer is on its "
                                        "network.", details=_details(chain))
    return StreamDropped(f"The connection to {server} failed before an answer came.", details=_details(chain))


def _seconds(timeout: float | None) -> str:
    if timeout is None:
        return "a long time"
    return "1 second" if round(timeout) == 1 else f"{timeout:.0f} seconds" if timeout >= 1 else f"{timeout:g} seconds"


def _name_not_found(chain: list[BaseException]) -> bool:
    return any(isinstance(f, socket.gaierror) for f in chain) or any(
        "name or service not known" in str(f).lower() or "nodename nor servname" in str(f).lower()
        or "getaddrinfo failed" in str(f).lower() for f in chain)


def _causes(failure: BaseException):
    seen = set()
    while failure is not None and id(failure) not in seen:
        seen.add(id(failure))
        yield failure
        failure = failure.__cause__ or failure.__context__


def _details(chain: list[BaseException]) -> str:
    return " <- ".join(f"{type(f).__name__}: {f}" for f in chain)
