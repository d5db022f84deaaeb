"""Zero egress, enforced in-process: an audit hook that refuses every connection leaving the
machine while offline mode is on, and keeps a count and log a window can show.

Python raises an audit event before each socket operation reaches the operating system
(`socket.connect` before connect(2), `socket.getaddrinfo` before any DNS query ...). The hook
installed by `install()` raises `EgressBlocked` from those events when the address is not on
this machine, so the call fails before a single packet is sent; libraries see an ordinary
`OSError` (a refused permission) and fail the way they do when the cable is unplugged.
Loopback (127.0.0.0/8, ::1, localhost) and Unix sockets stay allowed: a local API server and
its clients are not egress.

Audit hooks belong to the whole process and can never be removed, so there is exactly one
`EgressGuard` per process (`install()` returns the same one every time). Offline mode can be
switched at run time with `set_offline`, unless the organisation's policy locked it on.
The organisation's policy can approve remote model servers (`servers` in the policy file): in
offline mode the guard then lets through connections to exactly those hosts and ports, the
lookups of their names, and nothing else; each such connection is counted and logged apart
(`approved`, `approved_log`), so the window can show that the only traffic went there. A
name is matched by the addresses it resolves to, looked up again when a connection goes to an
address not seen before (round-robin DNS).
Scope: code running in this Python process, through Python's socket module. Native libraries
that open their own sockets in C are outside what an audit hook sees; Hearth ships none.
"""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.errors import OfflineMode
from core.system.policy import Policy, is_loopback_host

LOG_LIMIT = 200  # attempts kept in memory for the log view; the counters keep counting past it
_log = logging.getLogger("hearth.egress")

# Audit event -> position of the address (or host name) among its arguments.
_ADDRESS_EVENTS = {"socket.connect": 1, "socket.sendto": 1, "socket.sendmsg": 1}
_NAME_EVENTS = {"socket.getaddrinfo": 0, "socket.gethostbyname": 0, "socket.gethostbyname_ex": 0,
                "socket.gethostbyaddr": 0, "socket.getnameinfo": 0}
_INET = (socket.AF_INET, socket.AF_INET6)


class EgressBlocked(OfflineMode, PermissionError):
    """A connection that would leave this machine was refused because offline mode is on."""

    def __init__(self, code: int, message: str):
        # An OSError with its errno (what socket callers look at) that is also a HearthError.
        OSError.__init__(self, code, message)
        self.what, self.advice, self.fault, self.details = message, "", "", ""

    def __str__(self) -> str:  # a sentence for a person, without OSError's "[Errno 1]"
        return self.strerror or super().__str__()


@dataclass(frozen=True)
class BlockedAttempt:
    """One refused attempt: when, which operation, to where, and from which line of code."""

    time: float  # time.time()
    event: str  # the audit event, e.g. "socket.connect"
    target: str  # "192.0.2.1:443", "huggingface.co" ...
    caller: str  # "core/store/downloads.py:212 in _get", the nearest frame outside the socket layer

    def __str__(self) -> str:
        when = time.strftime("%H:%M:%S", time.localtime(self.time))
        return f"{when} blocked {self.event.removeprefix('socket.')} to {self.target} from {self.caller}"


@dataclass(frozen=True)
class ApprovedConnection:
    """A connection let through in offline mode because the policy approves its server."""

    time: float
    target: str  # the address connected to: "10.0.0.5:443"
    server: str  # the approved server it belongs to: "llm.example.internal:443"
    caller: str

    def __str__(self) -> str:
        when = time.strftime("%H:%M:%S", time.localtime(self.time))
        where = self.target if self.target == self.server else f"{self.target} ({self.server})"
        return f"{when} allowed connect to {where}, a server the policy approves, from {self.caller}"


Resolver = Callable[[str, int], Iterable[str]]


def _resolve(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]


class EgressGuard:
    """Counts and refuses non-local network attempts while `offline` is True, except to the
    servers the policy approves (`approve`). Thread-safe."""

    def __init__(self, offline: bool = True, locked_reason: str | None = None, resolve: Resolver = _resolve):
        self._lock = threading.Lock()
        self._offline = offline or locked_reason is not None
        self.locked_reason = locked_reason  # set when the policy forces offline mode
        self.started = time.time()
        self.blocked = 0  # non-local attempts refused since start
        self.local = 0  # loopback / Unix socket operations seen (allowed)
        self.outbound = 0  # non-local attempts let through because offline mode was off
        self.attempts: deque[BlockedAttempt] = deque(maxlen=LOG_LIMIT)
        self.approved = 0  # connections to approved servers let through while offline
        self.approved_log: deque[ApprovedConnection] = deque(maxlen=LOG_LIMIT)
        self.approved_servers: frozenset[tuple[str, int]] = frozenset()  # (host, port) as the policy names them
        self._addresses: dict[tuple[str, int], set[str]] = {}  # approved (host, port) -> its known addresses
        self._resolve = resolve
        self._listeners: list[Callable[[BlockedAttempt], None]] = []
        self._approved_listeners: list[Callable[[ApprovedConnection], None]] = []
        self._reporting = threading.local()

    @property
    def offline(self) -> bool:
        return self._offline

    def set_offline(self, offline: bool) -> None:
        """Turns blocking on or off; refused (OfflineMode) when the policy locked it on."""
        if not offline and self.locked_reason is not None:
            raise OfflineMode(f"Offline mode cannot be turned off on this computer. {self.locked_reason}")
        with self._lock:
            self._offline = offline

    def subscribe(self, listener: Callable[[BlockedAttempt], None]) -> None:
        """`listener(attempt)` is called after each block, on the thread that tried to connect
        (a window must hand it to its own thread, e.g. with a queued signal)."""
        with self._lock:
            self._listeners.append(listener)

    def subscribe_approved(self, listener: Callable[[ApprovedConnection], None]) -> None:
        """`listener(connection)` is called after each connection let through to an approved
        server, on the thread that connected (as for `subscribe`)."""
        with self._lock:
            self._approved_listeners.append(listener)

    def approve(self, servers: Iterable[tuple[str, int]]) -> None:
        """Lets offline mode reach exactly these (host, port) pairs: the servers the policy approves."""
        servers = frozenset((_bare(host), int(port)) for host, port in servers)
        with self._lock:
            self.approved_servers = servers
            self._addresses = {server: {server[0]} for server in servers}

    def refuses(self, host: str, port: int) -> bool:
        """Whether a connection to `host`:`port` would be refused now: offline, not this machine,
        and not an approved server (by the name the policy gives). For asking before trying."""
        if not self._offline or is_loopback_host(host):
            return False
        with self._lock:
            return (_bare(host), int(port)) not in self.approved_servers

    def summary(self) -> str:
        """One line for a status bar: "0 blocked attempts since 09:12", and the approved
        servers' connections when there are any: "; 3 connections to the approved server
        llm.example.internal:443"."""
        since = time.strftime("%H:%M", time.localtime(self.started))
        noun = "attempt" if self.blocked == 1 else "attempts"
        line = f"{self.blocked} blocked {noun} since {since}"
        if self.approved_servers:
            names = ", ".join(sorted(_named(host, port) for host, port in self.approved_servers))
            connections = "connection" if self.approved == 1 else "connections"
            servers = "server" if len(self.approved_servers) == 1 else "servers"
            line += f"; {self.approved} {connections} to the approved {servers} {names}"
        return line

    def log(self) -> list[BlockedAttempt]:
        with self._lock:
            return list(self.attempts)

    def approved_connections(self) -> list[ApprovedConnection]:
        with self._lock:
            return list(self.approved_log)

    # -- the audit hook ------------------------------------------------------------------
    def audit(self, event: str, args: tuple) -> None:
        approved = None
        if event in _ADDRESS_EVENTS:
            address = args[_ADDRESS_EVENTS[event]]
            target = self._address_target(args[0], address)
            if target is not None and self._offline:
                approved = self._approved_address(address)
        elif event in _NAME_EVENTS:
            target = _name_target(args[_NAME_EVENTS[event]])
            if target is not None and self._offline and self._approved_name(target):
                return  # looking up an approved server's name: the connection is what is counted
        else:
            return
        if target is None:
            with self._lock:
                self.local += 1
            return
        if not self._offline:
            with self._lock:
                self.outbound += 1
            return
        if approved is not None:
            connection = ApprovedConnection(time.time(), target, approved, _caller())
            with self._lock:
                self.approved += 1
                self.approved_log.append(connection)
                listeners = list(self._approved_listeners)
            _log.info("Offline mode: %s", connection)
            for listener in listeners:
                try:
                    listener(connection)
                except Exception:  # as for blocked attempts: a broken listener must not break the connection
                    _log.exception("egress listener failed")
            return
        attempt = BlockedAttempt(time.time(), event, target, _caller())
        with self._lock:
            self.blocked += 1
            self.attempts.append(attempt)
            listeners = list(self._listeners)
        # A log handler or listener that itself reaches for the network (remote syslog ...) would
        # come back here; its attempt is refused and counted, but not reported again.
        if not getattr(self._reporting, "active", False):
            self._reporting.active = True
            try:
                _log.warning("Offline mode: %s", attempt)
                for listener in listeners:
                    try:
                        listener(attempt)
                    except Exception:  # a broken listener must not turn a refusal into a crash
                        _log.exception("egress listener failed")
            finally:
                self._reporting.active = False
        raise EgressBlocked(1, f"Offline mode is on: Hearth refused to connect to {target}.")

    def _approved_name(self, name: str) -> bool:
        return any(host == _bare(name) for host, _ in self.approved_servers)

    def _approved_address(self, address) -> str | None:
        """The approved server ("host:port") that `address` (an (ip, port, ...) tuple) belongs
        to, or None."""
        if not (isinstance(address, tuple) and len(address) >= 2 and isinstance(address[1], int)):
            return None
        ip, port = _bare(address[0].decode() if isinstance(address[0], bytes) else str(address[0])), address[1]
        servers = [server for server in self.approved_servers if server[1] == port]
        for fresh in (False, True):
            for server in servers:
                if fresh:
                    self._learn(server)
                with self._lock:
                    known = set(self._addresses.get(server, ()))
                if ip in known:
                    return _named(*server)
        return None

    def _learn(self, server: tuple[str, int]) -> None:
        """Looks up the approved server's name again (its addresses may have changed). The
        lookup's own audit event is an approved name, so it passes this hook."""
        try:
            found = {_bare(a) for a in self._resolve(*server)}
        except OSError:
            return
        with self._lock:
            self._addresses.setdefault(server, {server[0]}).update(found)

    @staticmethod
    def _address_target(sock, address) -> str | None:
        """None when `address` stays on this machine, else how to name it in the log."""
        if address is None:  # sendmsg on a connected socket: its connect was already checked
            return None
        family = getattr(sock, "family", None)
        if family == getattr(socket, "AF_UNIX", None):
            return None
        if family in _INET and isinstance(address, tuple) and address:
            host = address[0].decode() if isinstance(address[0], bytes) else str(address[0])
            if is_loopback_host(host):
                return None
            port = address[1] if len(address) > 1 else "?"
            return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        # Any other family (raw packets, Bluetooth, CAN ...) is a way off the machine too.
        return f"{address!r} (socket family {family})"


def _bare(host: str) -> str:
    """A host as compared here: lower case, no brackets, no zone, no final dot."""
    return host.strip().strip("[]").split("%", 1)[0].lower().rstrip(".")


def _named(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _name_target(name) -> str | None:
    if name is None:
        return None  # a passive lookup (binding a server): nothing leaves the machine
    if isinstance(name, tuple):  # getnameinfo's sockaddr
        name = name[0] if name else ""
    if isinstance(name, bytes):
        name = name.decode(errors="replace")
    name = str(name)
    return None if name == "" or is_loopback_host(name) else name


def _caller() -> str:
    # The innermost frame that is not the socket layer or this file: the code that asked.
    # Source lines are not looked up: reading files from inside an audit hook is slow.
    frames = traceback.StackSummary.extract(traceback.walk_stack(None), limit=30, lookup_lines=False)
    for frame in frames:
        path = frame.filename.replace("\\", "/")
        if path.endswith(("/socket.py", "/egress.py", "/ssl.py")):
            continue
        parts = path.split("/")
        return f"{'/'.join(parts[-2:])}:{frame.lineno} in {frame.name}"
    return "unknown"


_guard: EgressGuard | None = None
_install_lock = threading.Lock()


def install(offline: bool = True, locked_reason: str | None = None) -> EgressGuard:
    """Installs the process's guard (once: audit hooks cannot be removed) and returns it.

    Called again, it returns the same guard with offline mode set to `offline` (and locked if
    `locked_reason` is given). Call it early, before any library can open a connection.
    """
    global _guard  # one per process, like the audit hook it stands for
    with _install_lock:
        if _guard is None:
            _guard = EgressGuard(offline, locked_reason)
            sys.addaudithook(_guard.audit)
            return _guard
    if locked_reason is not None:
        _guard.locked_reason = locked_reason
    # A lock set earlier stays: only the organisation's policy sets it, and it does not change.
    _guard.set_offline(offline or _guard.locked_reason is not None)
    return _guard


def install_for(policy: Policy, offline: bool) -> EgressGuard:
    """`install()` with the offline mode that `policy` and the person's own choice (`offline`)
    give, locked on where the policy forces it, and the servers it approves let through. What
    an entry point calls first thing."""
    locked = policy.lock_reason("offline") if policy.offline_forced else None
    installed = install(policy.effective_offline(offline), locked)
    installed.approve(policy.approved_endpoints())
    return installed


def guard() -> EgressGuard | None:
    """The installed guard, or None when `install()` was never called in this process."""
    return _guard
