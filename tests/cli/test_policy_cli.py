"""The organisation's policy in the terminal: `hearth models` refuses downloads (exit 5) and
works in the fixed folder, `hearth chat`/`run` refuse a model that is not allowed (exit 3)
before loading anything, and `hearth` installs the egress guard, locked on when the policy
forces offline mode.

In-process calls of `main()` only record the guard they would install (tests/cli/conftest.py);
the real guard is proven in fresh interpreters, behind the same safety net as
tests/core/system/test_egress.py: a second audit hook, installed after the guard, refuses any outbound
connection the guard let through, so nothing can leave this machine even if the guard failed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cli import exit_codes
from cli.main import main
from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
from core.store.model_files import Manifest
from core.system.policy import Policy
from core.system.policy_file import load_policy
from tests.core.system.test_egress import SAFETY_NET
from tests.model_fixtures import root_files, write_folder
from tests.scripted_checkpoint import script_transitions, write_scripted_checkpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HEARTH_MODELS_DIR", str(tmp_path / "models"))
    for name in ("HEARTH_OFFLINE", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def set_policy(tmp_path: Path, monkeypatch, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(textwrap.dedent(text))
    monkeypatch.setenv("HEARTH_POLICY", str(path))
    return path


# -- hearth models ------------------------------------------------------------------------------

def test_downloads_off_refuses_the_download_with_exit_3(env, hub, monkeypatch, capsys):
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    set_policy(env, monkeypatch, 'downloads = false\nreason = "Models come from IT (it-help@acme.example)."\n')
    assert main(["models", "download", "gpt-oss-20b"]) == exit_codes.REFUSED == 3
    err = capsys.readouterr().err
    assert err.startswith("hearth: Downloading models is turned off on this computer. Locked by your organisation's")
    assert "it-help@acme.example" in err and "Import the model from a folder instead." in err
    assert hub.log == []


def test_the_fixed_models_folder_is_used_and_the_person_is_told(env, files, monkeypatch, capsys):
    fixed = env / "srv" / "models"
    set_policy(env, monkeypatch, f'models_dir = "{fixed}"\n')
    src = write_folder(env / "usb", root_files(files))
    assert main(["models", "--models-dir", str(env / "mine"), "import", str(src), "--as", "gpt-oss-20b"]) == 0
    out, err = capsys.readouterr()
    assert f"using {fixed}, not {env / 'mine'}. Locked by your organisation's policy" in err
    assert str(fixed / "gpt-oss-20b") in out and not (env / "mine").exists()
    assert main(["models", "list", "--json"]) == 0  # no --models-dir: the fixed folder, no notice
    out, err = capsys.readouterr()
    assert json.loads(out)[0]["path"] == str(fixed / "gpt-oss-20b") and err == ""


# -- hearth chat / run ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def hello(tmp_path_factory) -> Path:
    """A tiny model in a folder named "hello" that answers "Hello world!"."""
    tok = load_tokenizer(shipped_vocabulary())
    script = [tok.start, *tok.encode("assistant"),
              *tok.encode("<|channel|>final<|message|>Hello world!<|return|>", allow_special=True)]
    folder = tmp_path_factory.mktemp("models") / "hello"
    return write_scripted_checkpoint(folder, script_transitions(script), default=tok.encode(" blah")[0])


def test_a_model_not_allowed_is_refused_by_its_catalogue_id(env, monkeypatch, capsys):
    set_policy(env, monkeypatch, 'allowed_models = ["gpt-oss-20b"]\nreason = "Only the small one."\n')
    # Refused before the store is asked for it: "not allowed" rather than "not installed".
    assert main(["chat", "--model", "gpt-oss-120b"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("Not loading the model: The model 'gpt-oss-120b' is not allowed on this computer "
                          "(allowed: gpt-oss-20b). Locked by your organisation's policy")
    assert "Only the small one." in err


def test_a_folder_is_judged_by_what_it_holds_not_its_manifest_or_name(env, hello, monkeypatch, capsys):
    set_policy(env, monkeypatch, 'allowed_models = ["gpt-oss-20b"]\n')
    # A manifest claiming an allowed id does not make a folder that model: its config decides.
    claims = env / "usb" / "claims-20b"
    shutil.copytree(hello, claims)
    Manifest("gpt-oss-20b", "openai/gpt-oss-20b", None, "hf", ()).write(claims)
    assert main(["run", "--model", str(claims), "Hi"]) == exit_codes.REFUSED
    assert "The model in the folder 'claims-20b' is not one of the models Hearth knows" in capsys.readouterr().err
    # Nor does a folder named like an allowed model.
    named = env / "usb" / "gpt-oss-20b"
    shutil.copytree(hello, named)
    assert main(["run", "--model", str(named), "Hi"]) == exit_codes.REFUSED
    assert "is not allowed on this computer (allowed: gpt-oss-20b)" in capsys.readouterr().err


def test_a_catalogue_model_in_any_folder_is_judged_by_its_config(env, monkeypatch, capsys):
    set_policy(env, monkeypatch, 'allowed_models = ["gpt-oss-120b"]\n')
    folder = env / "usb" / "gpt-oss-120b"  # a 20b config under the 120b's name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"num_hidden_layers": 24, "num_local_experts": 32}))
    (folder / "model.safetensors").write_bytes(b"")
    assert main(["run", "--model", str(folder), "Hi"]) == exit_codes.REFUSED
    assert "The model 'gpt-oss-20b' is not allowed on this computer (allowed: gpt-oss-120b)" in \
        capsys.readouterr().err


def test_any_model_answers_when_the_policy_does_not_restrict_models(env, hello, capsys):
    assert main(["run", "--model", str(hello), "Hi", "--temperature", "0"]) == exit_codes.OK
    assert capsys.readouterr().out == "Hello world!\n"


# -- the egress guard -------------------------------------------------------------------------------

def test_main_installs_the_guard_with_the_policy_and_the_persons_choice(env, monkeypatch, egress_calls, capsys):
    assert main(["models", "list"]) == 0
    assert egress_calls == [(Policy(), False)]
    assert main(["models", "--offline", "list"]) == 0
    monkeypatch.setenv("HEARTH_OFFLINE", "1")
    assert main(["hardware", "--json"]) in (0, 1)
    policy_file = set_policy(env, monkeypatch, "offline = true\n")
    monkeypatch.delenv("HEARTH_OFFLINE")
    assert main(["models", "list"]) == 0
    assert egress_calls[1:] == [(Policy(), True), (Policy(), True), (load_policy(), False)]
    assert egress_calls[-1][0].offline_forced and egress_calls[-1][0].sources == (policy_file,)


def hearth_env(tmp_path: Path, policy: str) -> dict[str, str]:
    (tmp_path / "policy.toml").write_text(policy)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HEARTH_POLICY": str(tmp_path / "policy.toml"),
           "HEARTH_MODELS_DIR": str(tmp_path / "models"), "HF_ENDPOINT": "http://192.0.2.1"}
    for name in ("HEARTH_OFFLINE", "HF_HUB_OFFLINE"):
        env.pop(name, None)
    return env


def test_hearth_with_offline_forced_blocks_a_connection_from_within(tmp_path):
    # main() installs the guard first; the safety net goes in after it, so it sees (and refuses)
    # the connect only if the guard let it through.
    script = textwrap.dedent("""
        import json, socket
        from cli.main import main
        from core.system import egress
        from core.errors import OfflineMode
        code = main(["models", "list", "--json"])
    """) + SAFETY_NET + textwrap.dedent("""
        guard = egress.guard()
        out = {"code": code, "offline": guard.offline}
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.settimeout(2)
        try:
            tcp.connect(("192.0.2.1", 443))
        except OSError as e:
            out["connect"] = f"{type(e).__name__}: {e}"
        try:
            guard.set_offline(False)
        except OfflineMode as e:
            out["unlock"] = str(e)
        out.update(blocked=guard.blocked, leaks=len(LEAKS))
        print(json.dumps(out))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=hearth_env(tmp_path, 'offline = true\nreason = "Lab rules."\n'))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 0 and result["offline"] is True
    assert result["connect"] == "EgressBlocked: Offline mode is on: Hearth refused to connect to 192.0.2.1:443."
    assert "cannot be turned off" in result["unlock"] and "Lab rules." in result["unlock"]
    assert result["blocked"] == 1 and result["leaks"] == 0


def test_hearth_models_download_under_a_policy_forcing_offline_exits_3(tmp_path):
    done = subprocess.run([sys.executable, "-m", "cli.main", "models", "download", "gpt-oss-20b"], cwd=tmp_path,
                          env=hearth_env(tmp_path, "offline = true\n"), capture_output=True, text=True, timeout=120)
    assert done.returncode == exit_codes.REFUSED, done.stderr
    assert done.stderr.startswith("hearth: Downloading models is turned off on this computer.")
    assert not (tmp_path / "models" / ".downloads").exists()
