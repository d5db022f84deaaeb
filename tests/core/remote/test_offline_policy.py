"""The remote client under the organisation's policy and the egress guard: an approved server is
used (in offline mode too: the guard lets through exactly its host and port, and counts it);
a server not in the list is refused with the policy's reason before any connection; one the
guard refuses is said as offline mode's refusal and counted; plain HTTP off this machine is
refused unless the policy allows it."""

from __future__ import annotations

import pytest

from core.remote import RemoteServer
from core.system.policy import Policy, PolicyForbids
from core.system.policy_file import parse_policy
from tests.core.remote.fake_server import fake_server
from tests.core.system.test_egress_servers import own_address, run_guarded

ANSWER = [{"choices": [{"index": 0, "delta": {"content": "From the approved server."}, "finish_reason": "stop"}]}]
POLICY = """\
reason = "Set by ACME IT (it-help@acme.example)."
servers = ["https://llm.acme.example/v1"]
"""


def test_a_server_not_in_the_list_is_refused_with_the_policys_reason():
    policy = parse_policy(POLICY)
    assert RemoteServer.open("https://llm.acme.example/v1", policy=policy).name == "llm.acme.example"
    with pytest.raises(PolicyForbids) as refused:
        RemoteServer.open("https://chat.other.example/v1", policy=policy)
    assert str(refused.value) == (
        "The server https://chat.other.example/v1 is not one your organisation approved (approved: "
        "https://llm.acme.example/v1). Locked by your organisation's policy (policy.toml). Set by ACME IT "
        "(it-help@acme.example).")


def test_plain_http_is_refused_off_this_machine_unless_the_policy_allows_it():
    with pytest.raises(PolicyForbids, match=r"uses plain http://, which would send the conversation over the "
                                            r"network unencrypted"):
        RemoteServer.open("http://10.1.2.3:8000/v1")
    RemoteServer.open("http://127.0.0.1:8000/v1")
    RemoteServer.open("http://10.1.2.3:8000/v1", policy=Policy(allow_plain_http=True))


def test_offline_mode_reaches_the_approved_server_and_nothing_else(tmp_path):
    address = own_address()
    if address is None:
        pytest.skip("this machine has no network address apart from loopback")
    with fake_server(lambda h, _: h.sse(ANSWER), host="0.0.0.0") as server:
        port = server.server_port
        url = f"http://{address}:{port}/v1"
        result = run_guarded(f"""
            import json
            from core.chat.answer import Answer
            from core.remote import RemoteModel, RemoteOffline, RemoteServer
            from core.system import egress
            from core.system.policy import Policy, PolicyForbids
            from core.system.server_url import ServerUrl
            CHAT = [{{"role": "user", "content": "Hi"}}]
            policy = Policy(offline=True, servers=("{url}",), allow_plain_http=True, reason="ACME IT.")
            guard = egress.install_for(policy, offline=True)
            out = {{}}
            events = list(RemoteModel(RemoteServer.open("{url}", policy=policy), "m").generate(CHAT))
            out["answer"], out["reason"] = Answer.of(events).content, events[-1].reason
            try:
                RemoteServer.open("http://192.0.2.1:{port}/v1", policy=policy)
            except PolicyForbids as e:
                out["policy"] = str(e)
            # The guard on its own, were the policy's check skipped: refused, counted, said.
            try:
                list(RemoteModel(RemoteServer(ServerUrl.parse("http://192.0.2.1:8000/v1")), "m").generate(CHAT))
            except RemoteOffline as e:
                out["offline"] = str(e)
            out.update(blocked=guard.blocked, approved=guard.approved, summary=guard.summary(), leaks=LEAKS,
                       log=[a.target for a in guard.log()])
            print(json.dumps(out))
        """, tmp_path, allowed=(address, port))
    assert result["answer"] == "From the approved server." and result["reason"] == "stop"
    assert "is not one your organisation approved" in result["policy"] and "ACME IT." in result["policy"]
    assert result["offline"].startswith("Offline mode is on, so Hearth did not connect to 192.0.2.1:8000: it "
                                        "connects only to this computer and to the servers your organisation's "
                                        "policy approves. Ask your administrator to add it to the policy's servers.")
    assert result["blocked"] == 1 and result["log"] == ["192.0.2.1"]  # refused at its name lookup
    assert result["approved"] == 1 and result["leaks"] == []
    assert result["summary"].endswith(f"; 1 connection to the approved server {address}:{port}")
