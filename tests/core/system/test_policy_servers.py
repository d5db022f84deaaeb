"""The policy's remote servers: `servers`, `local_models`, `ca_bundle`, `allow_plain_http`; the
approved list compared by origin, plain HTTP refused off this machine, bad values naming their
line, and a user's HEARTH_POLICY file never opening a server the machine's file closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import InvalidInput
from core.system.policy import Policy, PolicyForbids
from core.system.policy_file import PolicyFileError, load_policy, parse_policy
from core.system.server_url import ServerUrl

ORGANISATION = """\
reason = "Set by ACME IT (it-help@acme.example)."
offline = true
servers = ["https://LLM.acme.example/v1/", "http://10.1.2.3:8000/v1"]
local_models = false
ca_bundle = "/etc/hearth/acme-ca.pem"
allow_plain_http = true
"""


def test_the_servers_keys_are_read_and_normalised():
    policy = parse_policy(ORGANISATION)
    assert policy.servers == ("https://llm.acme.example/v1", "http://10.1.2.3:8000/v1")
    assert policy.local_models is False and policy.allow_plain_http is True
    assert policy.ca_bundle == Path("/etc/hearth/acme-ca.pem")
    assert policy.approved_endpoints() == {("llm.acme.example", 443), ("10.1.2.3", 8000)}
    assert policy.locked("servers") and policy.locked("local_models")
    assert policy.lock_reason("servers").endswith("Set by ACME IT (it-help@acme.example).")


def test_an_approved_server_passes_by_origin_and_another_is_refused_with_the_reason():
    policy = parse_policy(ORGANISATION)
    policy.check_server(ServerUrl.parse("https://llm.acme.example/v1"))
    policy.check_server(ServerUrl.parse("https://llm.acme.example:443/other/path"))  # the same server
    policy.check_server(ServerUrl.parse("http://10.1.2.3:8000/v1"))  # allowed plain: the policy says so
    for other in ("https://llm.evil.example/v1", "https://llm.acme.example:8443/v1", "http://llm.acme.example/v1"):
        with pytest.raises(PolicyForbids, match=r"not one your organisation approved.*ACME IT"):
            policy.check_server(ServerUrl.parse(other))


def test_local_models_false_refuses_every_model_on_this_computer():
    policy = parse_policy(ORGANISATION)
    with pytest.raises(PolicyForbids, match=r"Models do not run on this computer.*llm\.acme\.example.*ACME IT"):
        policy.check_model("gpt-oss-20b")
    Policy(local_models=True).check_model("gpt-oss-20b")


def test_plain_http_only_to_this_computer_unless_the_policy_allows_it():
    nobody = Policy()
    nobody.check_server(ServerUrl.parse("http://127.0.0.1:8000/v1"))
    nobody.check_server(ServerUrl.parse("http://localhost:8000/v1"))
    nobody.check_server(ServerUrl.parse("https://llm.example.org/v1"))
    with pytest.raises(PolicyForbids, match=r"plain http://.*unencrypted.*allow_plain_http"):
        nobody.check_server(ServerUrl.parse("http://192.168.1.5:8000/v1"))
    Policy(allow_plain_http=True).check_server(ServerUrl.parse("http://192.168.1.5:8000/v1"))


def test_an_empty_list_and_a_refused_file_allow_no_server(tmp_path):
    with pytest.raises(PolicyForbids, match="No remote server may be used"):
        parse_policy("servers = []\n").check_server(ServerUrl.parse("https://llm.acme.example/v1"))
    broken = tmp_path / "policy.toml"
    broken.write_text("servers = 3\n")
    policy = load_policy({}, system_path=broken)
    assert policy.error and policy.servers == () and policy.approved_endpoints() == frozenset()


@pytest.mark.parametrize(("text", "problem"), [
    ('servers = "https://llm.acme.example/v1"\n', "servers must be a list of server addresses"),
    ('servers = ["llm.acme.example"]\n', "in servers, 'llm.acme.example' is not a server address"),
    ('servers = ["ftp://llm.acme.example"]\n', "must start with https://"),
    ('servers = ["https://me:secret@llm.acme.example/v1"]\n', "holds a user name or password"),
    ('local_models = "no"\n', "local_models must be true or false"),
    ('allow_plain_http = 1\n', "allow_plain_http must be true or false"),
    ('ca_bundle = "acme-ca.pem"\n', "ca_bundle must be an absolute path"),
    ('ca_bundle = ["a"]\n', "ca_bundle must be the path of a certificate file"),
    ('servers = ["https://llm.acme.example/v1"]\nca_bundel = "/x.pem"\n', "did you mean 'ca_bundle'?"),
])
def test_a_bad_value_names_its_line(text, problem):
    with pytest.raises(PolicyFileError) as raised:
        parse_policy(text)
    line = text.count("\n", 0, text.rindex(text.strip().splitlines()[-1])) + 1
    assert f"line {line}: " in str(raised.value) and problem in str(raised.value)


def test_a_users_file_cannot_add_a_server_or_allow_plain_http(tmp_path):
    machine = tmp_path / "machine.toml"
    mine = tmp_path / "mine.toml"
    # The machine forces offline mode and names no server: a user's list opens nothing.
    machine.write_text("offline = true\n")
    mine.write_text('servers = ["https://llm.evil.example/v1"]\nallow_plain_http = true\n')
    both = load_policy({"HEARTH_POLICY": str(mine)}, system_path=machine)
    assert both.servers == () and both.approved_endpoints() == frozenset()
    assert both.allow_plain_http is None
    # Two lists: only the servers both name.
    machine.write_text('servers = ["https://a.example/v1", "https://b.example/v1"]\nallow_plain_http = true\n')
    mine.write_text('servers = ["https://b.example", "https://c.example/v1"]\nlocal_models = false\n')
    both = load_policy({"HEARTH_POLICY": str(mine)}, system_path=machine)
    assert both.servers == ("https://b.example/v1",) and both.local_models is False
    assert both.allow_plain_http is None  # said by one file only
    # A machine that leaves servers open (offline not forced) may be narrowed by the user.
    machine.write_text("downloads = false\n")
    both = load_policy({"HEARTH_POLICY": str(mine)}, system_path=machine)
    assert both.servers == ("https://b.example", "https://c.example/v1")


def test_server_addresses_are_parsed_into_their_parts():
    url = ServerUrl.parse(" https://LLM.Example.Internal.:8443/v1/ ")
    assert url.origin == ("https", "llm.example.internal", 8443) and url.path == "/v1"
    assert str(url) == "https://llm.example.internal:8443/v1"
    assert url.join("/chat/completions") == "https://llm.example.internal:8443/v1/chat/completions"
    ipv6 = ServerUrl.parse("http://[::1]/v1")
    assert ipv6.endpoint == ("::1", 80) and str(ipv6) == "http://[::1]/v1" and ipv6.plain_http
    for bad in ("", "llm.example", "https://", "https://x.example/v1?key=1", "https://x.example:99999/"):
        with pytest.raises(InvalidInput):
            ServerUrl.parse(bad)
