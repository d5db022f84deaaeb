"""Offline mode with the servers the policy approves: exactly their hosts and ports pass (by
the addresses their names resolve to, looked up again for an address not seen before); every
other host is refused and counted; the approved connections are counted and logged apart.

The decisions are checked on the guard's hook directly, with a fake name lookup; one real
connection goes through an installed guard in a fresh interpreter (audit hooks cannot be
removed), to this machine's own non-loopback address, with a safety net that refuses any
other outbound connection the guard might let through.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from core.system.egress import ApprovedConnection, EgressBlocked, EgressGuard
from core.system.policy_file import parse_policy
from tests.core.system.test_egress import ROOT


class FakeDns:
    def __init__(self, table: dict[str, list[str]]):
        self.table, self.asked = table, []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.table[host]


@pytest.fixture
def tcp():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        yield sock


def test_only_the_approved_hosts_and_ports_pass(tcp):
    dns = FakeDns({"llm.acme.example": ["10.0.0.5", "10.0.0.6"]})
    guard = EgressGuard(offline=True, resolve=dns)
    guard.approve(parse_policy('servers = ["https://LLM.acme.example/v1", "http://10.9.9.9:8000"]\n'
                               "allow_plain_http = true\n").approved_endpoints())
    guard.audit("socket.getaddrinfo", ("llm.acme.example", 443, 0, 1, 6, 0))  # its name may be looked up
    guard.audit("socket.connect", (tcp, ("10.0.0.5", 443)))
    guard.audit("socket.connect", (tcp, ("10.0.0.6", 443)))
    guard.audit("socket.connect", (tcp, ("10.9.9.9", 8000)))  # approved by address
    assert guard.approved == 3 and guard.blocked == 0
    for refused in (("10.0.0.5", 80), ("10.0.0.7", 443), ("10.9.9.9", 8001), ("192.0.2.1", 443)):
        with pytest.raises(EgressBlocked, match="Offline mode is on"):
            guard.audit("socket.connect", (tcp, refused))
    with pytest.raises(EgressBlocked, match=r"huggingface\.co"):
        guard.audit("socket.getaddrinfo", ("huggingface.co", 443, 0, 1, 6, 0))
    assert guard.blocked == 5 and guard.approved == 3
    log = guard.approved_connections()
    assert all(isinstance(c, ApprovedConnection) for c in log)
    assert [c.target for c in log] == ["10.0.0.5:443", "10.0.0.6:443", "10.9.9.9:8000"]
    assert log[0].server == "llm.acme.example:443" and log[2].server == "10.9.9.9:8000"
    assert "allowed connect to 10.0.0.5:443 (llm.acme.example:443), a server the policy approves" in str(log[0])
    summary = guard.summary()
    assert summary.startswith("5 blocked attempts since ")
    assert summary.endswith("; 3 connections to the approved servers 10.9.9.9:8000, llm.acme.example:443")


def test_a_name_that_moved_is_looked_up_again(tcp):
    dns = FakeDns({"llm.acme.example": ["10.0.0.5"]})
    guard = EgressGuard(offline=True, resolve=dns)
    guard.approve({("llm.acme.example", 443)})
    guard.audit("socket.connect", (tcp, ("10.0.0.5", 443)))
    dns.table["llm.acme.example"] = ["10.0.0.8"]
    guard.audit("socket.connect", (tcp, ("10.0.0.8", 443)))
    assert guard.approved == 2 and dns.asked == ["llm.acme.example", "llm.acme.example"]
    dns.table["llm.acme.example"] = []  # a lookup that finds nothing does not widen anything
    with pytest.raises(EgressBlocked):
        guard.audit("socket.connect", (tcp, ("10.0.0.9", 443)))


def test_online_the_approved_list_changes_nothing(tcp):
    guard = EgressGuard(offline=False, resolve=FakeDns({}))
    guard.approve({("10.0.0.5", 443)})
    guard.audit("socket.connect", (tcp, ("10.0.0.5", 443)))
    guard.audit("socket.connect", (tcp, ("192.0.2.1", 443)))
    assert guard.outbound == 2 and guard.approved == 0 and guard.blocked == 0


def test_without_approved_servers_the_summary_is_unchanged():
    assert "approved" not in EgressGuard(offline=True).summary()


def own_address() -> str | None:
    """This machine's own non-loopback IPv4 address (a UDP connect sends nothing), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_a_real_connection_to_the_approved_server_passes_and_another_is_refused(tmp_path):
    address = own_address()
    if address is None:
        pytest.skip("this machine has no network address apart from loopback")
    with socket.create_server(("0.0.0.0", 0)) as server:
        port = server.getsockname()[1]
        result = run_guarded(f"""
            import json, socket, threading
            from core.system import egress
            from core.system.policy import Policy
            server = socket.socket(fileno={server.fileno()})
            threading.Thread(target=lambda: server.accept()[0].sendall(b"hi"), daemon=True).start()
            policy = Policy(offline=True, servers=("http://{address}:{port}/v1",), allow_plain_http=True)
            guard = egress.install_for(policy, offline=True)
            out = {{}}
            client = socket.create_connection(("{address}", {port}), timeout=5)
            out["got"] = client.recv(2).decode()
            for other in (("{address}", {port} + 1), ("192.0.2.1", {port})):
                try:
                    socket.create_connection(other, timeout=5)
                except OSError as e:
                    out.setdefault("others", []).append(str(e))
            out.update(blocked=guard.blocked, approved=guard.approved, summary=guard.summary(),
                       log=[str(c) for c in guard.approved_connections()], leaks=LEAKS)
            print(json.dumps(out))
        """, tmp_path, allowed=(address, port), pass_fds=(server.fileno(),))
    assert result["got"] == "hi" and result["leaks"] == []
    assert len(result["others"]) == 2 and all("Offline mode is on" in e for e in result["others"])
    assert result["blocked"] == 2 and result["approved"] == 1
    assert result["summary"].endswith(f"; 1 connection to the approved server {address}:{port}")
    assert len(result["log"]) == 1 and f"allowed connect to {address}:{port}, a server the policy" in result["log"][0]


def run_guarded(body: str, tmp_path, allowed: tuple[str, int], pass_fds=()) -> dict:
    """Like test_egress's `run_isolated`, with a safety net that lets through the one approved
    (address, port) and nothing else off this machine: the connection really happens, and
    nothing can leave even if the guard under test were broken."""
    net = f"""
import socket as _socket, sys as _sys
from core.system.policy import is_loopback_host as _local
LEAKS = []
def _net(event, args):
    if event in ("socket.connect", "socket.sendto") and args[0].family in (_socket.AF_INET, _socket.AF_INET6):
        if not _local(str(args[1][0])) and tuple(args[1][:2]) != {allowed!r}:
            LEAKS.append(list(args[1][:2]))
            raise RuntimeError(f"the guard let {{args[1]}} through")
"""
    script = net + textwrap.dedent(body).replace(
        "guard = egress.install_for(policy, offline=True)",
        "guard = egress.install_for(policy, offline=True)\n_sys.addaudithook(_net)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60, pass_fds=pass_fds)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_approved_connections_are_reported_to_their_own_listeners(tcp):
    guard = EgressGuard(offline=True, resolve=FakeDns({"10.0.0.5": ["10.0.0.5"]}))
    guard.approve({("10.0.0.5", 443)})
    approved, blocked = [], []
    guard.subscribe_approved(approved.append)
    guard.subscribe(blocked.append)
    guard.subscribe_approved(lambda _connection: 1 / 0)  # a broken listener does not refuse the connection
    guard.audit("socket.connect", (tcp, ("10.0.0.5", 443)))
    with pytest.raises(EgressBlocked):
        guard.audit("socket.connect", (tcp, ("10.0.0.6", 443)))
    assert [c.target for c in approved] == ["10.0.0.5:443"]
    assert [a.target for a in blocked] == ["10.0.0.6:443"]


def test_the_guard_says_beforehand_which_connections_it_would_refuse():
    guard = EgressGuard(offline=True, resolve=FakeDns({}))
    guard.approve({("llm.acme.example", 443)})
    assert not guard.refuses("LLM.acme.example", 443) and not guard.refuses("127.0.0.1", 8080)
    assert guard.refuses("llm.acme.example", 80) and guard.refuses("other.example", 443)
    guard.set_offline(False)
    assert not guard.refuses("other.example", 443)
