"""`hearth run --server URL` and `hearth chat --server URL` against Hearth's own server on
loopback (a scripted engine session): the answer on stdout and the reasoning on stderr as for
a local model, JSON events, the API key from the environment, a refused key's sentence, the
policy refusing a server that is not approved, and a chat naming a model the server lacks."""

from __future__ import annotations

import io
import json
import sys

import pytest

from cli.main import main
from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
from core.server.http import ServedModel
from tests.core.server.api_fixtures import ScriptedSession, running

THOUGHTFUL = ("<|channel|>analysis<|message|>The user greets me.<|end|>"
              "<|start|>assistant<|channel|>final<|message|>Hello!<|return|>")


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(shipped_vocabulary())


@pytest.fixture
def server(tok):
    with running(ServedModel("gpt-oss-20b", tok, ScriptedSession(tok, THOUGHTFUL)), api_key="s3cret") as server:
        yield server


def test_run_answers_from_the_server(server, capsys, monkeypatch):
    monkeypatch.setenv("HEARTH_REMOTE_API_KEY", "s3cret")
    assert main(["run", "--server", server.url, "--model", "gpt-oss-20b", "--reasoning", "low", "Hi"]) == 0
    out, err = capsys.readouterr()
    assert out == "Hello!\n"
    assert "[thinking]" in err and "The user greets me." in err and "tokens/s" in err


def test_run_json_events_and_a_named_key_variable(server, capsys, monkeypatch):
    monkeypatch.delenv("HEARTH_REMOTE_API_KEY", raising=False)
    monkeypatch.setenv("ACME_LLM_KEY", "s3cret")
    assert main(["run", "--server", server.url, "--api-key-env", "ACME_LLM_KEY", "--model", "gpt-oss-20b",
                 "--api", "responses", "--json", "Hi"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["type"] for e in events][:2] == ["MessageStarted", "TextDelta"]
    assert events[-1]["type"] == "Finished" and events[-1]["reason"] == "stop"
    assert "".join(e["text"] for e in events if e["type"] == "TextDelta" and e["channel"] == "final") == "Hello!"


def test_a_refused_key_is_a_sentence_and_exit_1(server, capsys, monkeypatch):
    monkeypatch.setenv("HEARTH_REMOTE_API_KEY", "wrong")
    assert main(["run", "--server", server.url, "--model", "gpt-oss-20b", "Hi"]) == 1
    err = capsys.readouterr().err
    assert "did not accept the API key (it answered 401). Check the key" in err and "Traceback" not in err


def test_an_unset_key_variable_is_a_usage_error(server, capsys, monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    assert main(["run", "--server", server.url, "--api-key-env", "NOT_SET_ANYWHERE", "--model", "m", "Hi"]) == 2
    assert "NOT_SET_ANYWHERE (named by --api-key-env) is not set" in capsys.readouterr().err


def test_a_server_the_policy_does_not_approve_is_refused(server, tmp_path, capsys, monkeypatch):
    policy = tmp_path / "policy.toml"
    policy.write_text('reason = "ACME IT."\nservers = ["https://llm.acme.example/v1"]\n')
    monkeypatch.setenv("HEARTH_POLICY", str(policy))
    assert main(["run", "--server", server.url, "--model", "gpt-oss-20b", "Hi"]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"Not using the server: The server {server.url} is not one your organisation approved")
    assert "ACME IT." in err


def test_plain_http_off_this_machine_is_refused(capsys):
    assert main(["run", "--server", "http://10.1.2.3:8000/v1", "--model", "m", "Hi"]) == 3
    assert "plain http://" in capsys.readouterr().err


def test_chat_with_the_server_and_a_model_it_lacks(server, capsys, monkeypatch):
    monkeypatch.setenv("HEARTH_REMOTE_API_KEY", "s3cret")
    monkeypatch.setattr(sys, "stdin", io.StringIO("Hi\n/effort high\nAgain\n"))
    assert main(["chat", "--server", server.url, "--model", "gpt-oss-20b"]) == 0
    out = capsys.readouterr().out
    port = server.url.split(":")[2].split("/")[0]
    assert f"gpt-oss-20b on 127.0.0.1:{port} is ready." in out
    assert out.count("Hello!") == 2 and "(reasoning effort: high)" in out
    assert main(["chat", "--server", server.url, "--model", "gpt-oss-120b"]) == 1
    assert "has no model 'gpt-oss-120b'; it serves: gpt-oss-20b." in capsys.readouterr().err


def test_run_json_schema_goes_to_the_server_as_its_response_format(tok, tmp_path, capsys):
    schema = {"type": "object", "properties": {"greeting": {"type": "string"}}, "required": ["greeting"],
              "additionalProperties": False}
    path = tmp_path / "greeting.json"
    path.write_text(json.dumps(schema))
    session = ScriptedSession(tok, '<|channel|>final<|message|>{"greeting": "Hello"}<|return|>')
    with running(ServedModel("gpt-oss-20b", tok, session)) as server:
        assert main(["run", "--server", server.url, "--model", "gpt-oss-20b", "--json-schema", str(path), "Hi"]) == 0
    assert json.loads(capsys.readouterr().out) == {"greeting": "Hello"}
    prompt = tok.decode(session.prompts[0])
    assert "# Response Formats" in prompt and "## greeting" in prompt and '"greeting"' in prompt
