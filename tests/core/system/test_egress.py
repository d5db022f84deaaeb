"""Zero egress, proven: the audit hook refuses real connection attempts before the system call
(a TEST-NET address, DNS names, UDP), lets loopback through, and a full offline session
(import two models, chat, switch model, chat again, serve and call the local API) makes no
network attempt at all.

Audit hooks cannot be removed, so everything that installs one runs in a fresh interpreter.
Each of those scripts first installs the guard, then a second hook of its own: hooks run in
order and stop at the first that raises, so the second one sees an outbound event only if the
guard let it through, and then refuses it too. No packet can leave this machine even if the
guard under test were broken.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.errors import OfflineMode
from core.system.egress import BlockedAttempt, EgressBlocked, EgressGuard

ROOT = Path(__file__).resolve().parents[3]

SAFETY_NET = """
import socket as _socket, sys as _sys
from core.system.policy import is_loopback_host as _local
LEAKS = []
def _net(event, args):
    if event in ("socket.connect", "socket.sendto") and args[0].family in (_socket.AF_INET, _socket.AF_INET6):
        if not _local(str(args[1][0])):
            LEAKS.append(args[1])
            raise RuntimeError(f"the guard let {args[1]} through")
_sys.addaudithook(_net)
"""


def run_isolated(body: str, tmp_path: Path, timeout: float = 90) -> dict:
    """Runs `body` in a fresh interpreter after the guard and the safety net are installed; the
    script prints one JSON line, returned here."""
    script = ("from core.system import egress\nguard = egress.install(offline=True)\n" + SAFETY_NET
              + textwrap.dedent(body))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HEARTH_OFFLINE": "1", "HEARTH_MODELS_DIR": str(tmp_path / "m")}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_real_connect_to_test_net_is_refused_before_the_syscall(tmp_path):
    result = run_isolated("""
        import json, socket, errno
        from core.system.egress import EgressBlocked
        seen = []
        guard.subscribe(lambda attempt: seen.append(str(attempt)))
        out = {}
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.settimeout(2)
        try:
            tcp.connect(("192.0.2.1", 443))
        except EgressBlocked as e:
            out["tcp"] = str(e)
        try:  # never connected: the hook raised before connect(2) was called
            tcp.getpeername()
        except OSError as e:
            out["peer_errno"] = e.errno
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            udp.sendto(b"x", ("192.0.2.1", 53))
        except PermissionError as e:
            out["udp"] = str(e)
        for name in ("example.com", "huggingface.co"):
            try:
                socket.getaddrinfo(name, 443)
            except OSError as e:
                out[name] = str(e)
        out.update(blocked=guard.blocked, summary=guard.summary(), seen=seen, leaks=len(LEAKS),
                   log=[a.target for a in guard.log()], callers=[a.caller for a in guard.log()])
        print(json.dumps(out))
    """, tmp_path)
    assert result["tcp"] == "Offline mode is on: Hearth refused to connect to 192.0.2.1:443."
    assert result["peer_errno"] == 107  # ENOTCONN
    assert "192.0.2.1:53" in result["udp"]
    assert "example.com" in result["example.com"] and "huggingface.co" in result["huggingface.co"]
    assert result["blocked"] == 4 and result["summary"].startswith("4 blocked attempts since ")
    assert result["log"] == ["192.0.2.1:443", "192.0.2.1:53", "example.com", "huggingface.co"]
    assert all(c.startswith("<string>:") for c in result["callers"])
    assert len(result["seen"]) == 4 and result["leaks"] == 0


def test_loopback_and_unix_sockets_stay_allowed(tmp_path):
    result = run_isolated("""
        import json, socket, threading
        server = socket.create_server(("127.0.0.1", 0))
        port = server.getsockname()[1]
        threading.Thread(target=lambda: server.accept()[0].sendall(b"hi"), daemon=True).start()
        client = socket.create_connection(("localhost", port), timeout=5)
        got = client.recv(2)
        a, b = socket.socketpair()  # a Unix socket pair
        a.sendall(b"ok")
        print(json.dumps({"got": got.decode(), "unix": b.recv(2).decode(), "blocked": guard.blocked,
                          "local": guard.local, "leaks": len(LEAKS)}))
    """, tmp_path)
    assert result == {"got": "hi", "unix": "ok", "blocked": 0, "local": result["local"], "leaks": 0}
    assert result["local"] >= 2  # the lookup of localhost and the connect


def test_a_listener_that_reaches_out_itself_is_refused_without_looping(tmp_path):
    result = run_isolated("""
        import json, socket
        def noisy(attempt):  # e.g. a remote syslog handler
            socket.socket().connect(("192.0.2.9", 514))
        guard.subscribe(noisy)
        try:
            socket.socket().connect(("192.0.2.1", 80))
        except OSError as e:
            error = str(e)
        print(json.dumps({"error": error, "blocked": guard.blocked, "leaks": len(LEAKS),
                          "log": [a.target for a in guard.log()]}))
    """, tmp_path)
    assert "192.0.2.1:80" in result["error"] and result["leaks"] == 0
    assert result["blocked"] == 2 and result["log"] == ["192.0.2.1:80", "192.0.2.9:514"]


def test_the_download_path_is_stopped_even_if_offline_mode_were_forgotten(tmp_path):
    # The store believes it is online (a bug elsewhere), the guard still stops the hub request.
    result = run_isolated("""
        import json
        from core.store.downloads import RetryPolicy
        from core.store.model_store import ModelStore
        store = ModelStore(offline=False, endpoint="http://192.0.2.1", retry=RetryPolicy(attempts=1, base_delay=0))
        try:
            store.download("gpt-oss-20b")
            outcome = "downloaded?!"
        except Exception as e:
            outcome = type(e).__name__
        print(json.dumps({"outcome": outcome, "blocked": guard.blocked, "targets": [a.target for a in guard.log()],
                          "leaks": len(LEAKS)}))
    """, tmp_path)
    assert result["outcome"] != "downloaded?!"
    assert result["blocked"] >= 1 and all(t.startswith("192.0.2.1") for t in result["targets"])
    assert result["leaks"] == 0


@pytest.mark.slow
def test_a_whole_offline_session_makes_no_network_attempt(tmp_path):
    result = run_isolated("""
        import json, tempfile, threading, urllib.request
        from pathlib import Path
        from core import load_model
        from core.server.http import ApiServer, ServedModel
        from core.chat.generate import GenerationSettings, generate
        from core.store.model_store import ModelStore
        from core.engine.sampling import SamplingParams
        from core.engine.testing import tiny_config, write_checkpoint
        from core.chat.tokenizer import load_tokenizer

        store = ModelStore()
        for seed, model_id in enumerate(("gpt-oss-20b", "gpt-oss-120b")):
            src = write_checkpoint(Path(tempfile.mkdtemp()), tiny_config(vocab_size=201088), seed=seed)
            store.import_folder(src, model_id=model_id)
        settings = GenerationSettings(max_new_tokens=3, sampling=SamplingParams(temperature=0.0))
        chat = [{"role": "user", "content": "Hello"}]
        turns = 0
        for model_id in ("gpt-oss-20b", "gpt-oss-120b"):  # a chat, then a model switch
            model = load_model(store.path(model_id))
            tokenizer = load_tokenizer(store.path(model_id))
            session = model.new_session(1024)
            for _ in range(2):
                events = list(generate(session, tokenizer, chat, settings=settings, current_date="2025-01-01"))
                chat += [{"role": "assistant", "content": "fine"}, {"role": "user", "content": "again"}]
                turns += events[-1].generated_tokens > 0
        server = ApiServer(ServedModel("gpt-oss-120b", tokenizer, session), port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions"
        body = json.dumps({"model": "gpt-oss-120b", "messages": chat[:1], "max_tokens": 2}).encode()
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            served = json.load(response)["object"]
        server.shutdown()
        print(json.dumps({"turns": turns, "served": served, "blocked": guard.blocked, "outbound": guard.outbound,
                          "local": guard.local, "leaks": len(LEAKS)}))
    """, tmp_path, timeout=120)
    assert result["turns"] == 4 and result["served"] == "chat.completion"
    assert result["blocked"] == 0 and result["outbound"] == 0 and result["leaks"] == 0
    assert result["local"] >= 1  # the API call on loopback was seen, and allowed


# -- the guard's decisions, on an instance that is not installed ------------------------
def test_decisions_without_installing():
    guard = EgressGuard(offline=True)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM) if socket.has_ipv6 else None
    try:
        guard.audit("socket.connect", (tcp, ("127.0.0.1", 80)))
        guard.audit("socket.getaddrinfo", ("localhost", 80, 0, 0, 0))
        guard.audit("socket.getaddrinfo", (None, 80, 0, 0, 0))
        guard.audit("socket.sendmsg", (tcp, None))
        guard.audit("open", ("/etc/hosts", "r", 0))  # not a network event: ignored
        assert guard.local == 4 and guard.blocked == 0
        with pytest.raises(EgressBlocked, match=r"10\.1\.2\.3:8080"):
            guard.audit("socket.connect", (tcp, ("10.1.2.3", 8080)))
        with pytest.raises(EgressBlocked, match=r"hub\.example"):
            guard.audit("socket.gethostbyname", ("hub.example",))
        if tcp6 is not None:
            guard.audit("socket.connect", (tcp6, ("::1", 80, 0, 0)))
            with pytest.raises(EgressBlocked, match=r"\[2001:db8::1\]:443"):
                guard.audit("socket.connect", (tcp6, ("2001:db8::1", 443, 0, 0)))
        assert all(isinstance(a, BlockedAttempt) for a in guard.log())
        # Offline mode off: let through, but counted.
        guard.set_offline(False)
        guard.audit("socket.connect", (tcp, ("10.1.2.3", 8080)))
        assert guard.outbound == 1
    finally:
        tcp.close()
        if tcp6 is not None:
            tcp6.close()


def test_installed_from_the_policy(tmp_path):
    result = run_isolated("""
        import json
        from core.system import egress
        from core.errors import OfflineMode
        from core.system.policy import Policy
        again = egress.install_for(Policy(offline=True, reason="IT says so."), offline=False)
        try:
            again.set_offline(False)
            refused = None
        except OfflineMode as e:
            refused = str(e)
        print(json.dumps({"same": again is guard, "offline": again.offline, "refused": refused}))
    """, tmp_path)
    assert result["same"] and result["offline"]
    assert "cannot be turned off" in result["refused"] and "IT says so." in result["refused"]


def test_a_policy_lock_keeps_offline_mode_on():
    guard = EgressGuard(offline=False, locked_reason="Locked by your organisation's policy.")
    assert guard.offline
    with pytest.raises(OfflineMode, match=r"cannot be turned off.*organisation"):
        guard.set_offline(False)
    assert guard.offline
    assert guard.summary().startswith("0 blocked attempts since ")
    error = EgressBlocked(1, "Offline mode is on: Hearth refused to connect to x.")
    assert isinstance(error, OSError) and str(error) == "Offline mode is on: Hearth refused to connect to x."


def test_a_failing_listener_does_not_hide_the_refusal():
    guard = EgressGuard()
    guard.subscribe(lambda attempt: 1 / 0)
    with socket.socket() as tcp, pytest.raises(EgressBlocked):
        guard.audit("socket.connect", (tcp, ("192.0.2.1", 1)))
    assert guard.blocked == 1
