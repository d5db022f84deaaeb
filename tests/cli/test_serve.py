"""`hearth serve` as a person runs it: a real process on 127.0.0.1 answering the official openai
client, stopped by Ctrl-C with its offline-mode count; and the organisation's policy refusing
it before any model is loaded."""

from __future__ import annotations

import signal
from pathlib import Path

import openai
import pytest
import torch  # noqa: F401  (loaded once here, so the checkpoint writer below is quick)

from cli import exit_codes
from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
from tests.processes import hearth, serving_url
from tests.scripted_checkpoint import script_transitions, write_scripted_checkpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hello_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("gpt-oss-hello")
    tok = load_tokenizer(shipped_vocabulary())
    script = [tok.start, *tok.encode("assistant"),
              *tok.encode("<|channel|>final<|message|>Hello world!<|return|>", allow_special=True)]
    write_scripted_checkpoint(folder, script_transitions(script), default=tok.encode(" blah")[0])
    return folder


def test_serve_answers_the_openai_client_and_stops_on_ctrl_c(tmp_path, hello_folder):
    process = hearth(tmp_path, "serve", "--model", str(hello_folder), "--port", "0", "--api-key", "k",
                     HEARTH_OFFLINE="1")
    try:
        url, _ = serving_url(process)
        assert url.startswith("http://127.0.0.1:")
        api = openai.OpenAI(base_url=url, api_key="k", max_retries=0, timeout=60)
        assert [m.id for m in api.models.list()] == [hello_folder.name]
        answer = api.chat.completions.create(model=hello_folder.name, temperature=0,
                                             messages=[{"role": "user", "content": "Hi"}])
        assert answer.choices[0].message.content == "Hello world!"
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=url, api_key="wrong", max_retries=0).models.list()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    # Offline mode was on the whole time, and nothing tried to leave the machine.
    assert "Stopped. Offline mode: 0 blocked attempts since" in out


@pytest.mark.parametrize(("policy", "args", "refusal"), [
    ('api_server = "off"\nreason = "Ask IT."', [], "The local API server is turned off on this computer"),
    ('api_server = "loopback"', ["--host", "0.0.0.0", "--api-key", "k"], "may only listen on this computer"),
    # --name only labels the model for clients: the policy judges what the folder holds.
    ('allowed_models = ["gpt-oss-120b"]', ["--name", "gpt-oss-120b"],
     "is not one of the models Hearth knows, so it is not allowed on this computer (allowed: gpt-oss-120b)"),
    ("api_server = maybe", [], "most restrictive mode"),
])
def test_the_policy_refuses_before_loading(tmp_path, hello_folder, policy, args, refusal):
    process = hearth(tmp_path, "serve", "--model", str(hello_folder), "--port", "0", *args, policy=policy)
    _, err = process.communicate(timeout=60)
    assert process.returncode == exit_codes.REFUSED == 3, err
    assert "Not serving:" in err and refusal in err
    if "Ask IT." in policy:
        assert "Ask IT." in err


def test_a_missing_model_is_a_plain_failure(tmp_path):
    process = hearth(tmp_path, "serve", "--model", str(tmp_path / "nowhere"), "--port", "0")
    _, err = process.communicate(timeout=60)
    assert process.returncode == exit_codes.FAILED and "nowhere" in err and "Traceback" not in err


@pytest.mark.parametrize(("args", "message"), [
    (["--host", "0.0.0.0"], "Not listening on 0.0.0.0 without an API key"),
    (["--api-key", ""], "--api-key is empty"),
    (["--api-key", "  "], "--api-key is empty"),
])
def test_no_network_listening_without_a_key_unless_asked(tmp_path, hello_folder, args, message):
    process = hearth(tmp_path, "serve", "--model", str(hello_folder), "--port", "0", *args)
    _, err = process.communicate(timeout=60)
    assert process.returncode == exit_codes.USAGE and message in err and "Traceback" not in err
