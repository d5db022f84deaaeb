"""`hearth models ...` and `hearth hardware`: output, exit codes, and (slow) real processes that
are killed, interrupted or paused midway and then resumed.

Network loops are bounded: the fake hub is local, waits poll with deadlines, and every
subprocess has a timeout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli import exit_codes
from cli.main import main
from core.store.model_store import ModelStore
from tests.model_fixtures import root_files, write_folder
from tests.processes import spawn

ROOT = Path(__file__).resolve().parents[2]
SHARD = "model-00001-of-00002.safetensors"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HEARTH_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.delenv("HEARTH_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return tmp_path


def run(*argv):
    return main(list(argv))


def test_list_json_and_table(env, capsys):
    assert run("models", "list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(m["id"], m["status"]) for m in listed] == [("gpt-oss-20b", "available"), ("gpt-oss-120b", "available")]
    assert run("models", "list") == 0
    assert "gpt-oss-120b" in capsys.readouterr().out


def test_import_verify_export_delete(env, files, capsys):
    src = write_folder(env / "usb", root_files(files))
    assert run("models", "import", str(src), "--as", "gpt-oss-20b") == 0
    assert "gpt-oss-20b is installed (copied)" in capsys.readouterr().out
    assert run("models", "verify", "gpt-oss-20b") == 0
    assert "all 10 files are intact" in capsys.readouterr().out
    assert run("models", "export", "gpt-oss-20b", str(env / "stick")) == 0
    assert (env / "stick" / "gpt-oss-20b" / "hearth-manifest.json").is_file()

    installed = env / "models" / "gpt-oss-20b"
    (installed / "tokenizer.json").write_bytes(b"{}")
    (installed / "chat_template.jinja").unlink()
    assert run("models", "verify", "gpt-oss-20b") == exit_codes.VERIFY_FAILED
    out, err = capsys.readouterr()
    assert "tokenizer.json: wrong size" in out and "chat_template.jinja: missing" in out
    assert "2 of 10 files are missing or damaged" in err

    assert run("models", "delete", "gpt-oss-20b") == 0
    assert "Deleted gpt-oss-20b; freed" in capsys.readouterr().out
    assert run("models", "verify", "gpt-oss-20b") == exit_codes.FAILED
    assert "not installed" in capsys.readouterr().err
    # The export installs on "another machine" and tells which model it holds by itself.
    assert run("models", "--models-dir", str(env / "other"), "import", str(env / "stick" / "gpt-oss-20b")) == 0


def test_download_through_the_terminal(env, hub, files, monkeypatch, capsys):
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    assert run("models", "download", "gpt-oss-20b") == 0
    out, err = capsys.readouterr()
    assert "gpt-oss-20b is installed in" in out
    assert "100.0%" in err and "done" in err  # the progress lines (stderr is not a terminal here)
    assert hub.paths_requested() == set(root_files(files))


def test_offline_refusal_and_pause_without_a_download(env, hub, monkeypatch, capsys):
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HEARTH_OFFLINE", "1")
    assert run("models", "download", "gpt-oss-20b") == exit_codes.REFUSED
    assert "Offline mode is on" in capsys.readouterr().err
    assert hub.log == []
    assert run("models", "pause", "gpt-oss-20b") == exit_codes.FAILED
    assert "No download of gpt-oss-20b is running" in capsys.readouterr().err


def test_unknown_model_is_a_usage_error(env, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run("models", "download", "llama-70b")
    assert exit_info.value.code == 2


def test_hardware_report(env, capsys):
    code = run("hardware", "--context", "4096")
    out = capsys.readouterr().out
    assert code in (0, 1)
    assert "RAM:" in out and "gpt-oss-20b" in out and "Recommended:" in out
    assert run("hardware", "--json") in (0, 1)
    report = json.loads(capsys.readouterr().out)
    assert {p["model"] for p in report["plans"]} == {"gpt-oss-20b", "gpt-oss-120b"}
    assert run("hardware", "--context", "200000") == exit_codes.USAGE
    assert "between 1 and 131072 tokens" in capsys.readouterr().err


# -- real processes ----------------------------------------------------------------------------

def hearth(env, hub, *argv, **kwargs):
    environment = {**os.environ, "HEARTH_MODELS_DIR": str(env / "models"), "HF_ENDPOINT": hub.url,
                   "PYTHONPATH": str(ROOT)}
    environment.pop("HEARTH_OFFLINE", None)
    return spawn([sys.executable, "-m", "cli.main", *argv], cwd=ROOT, env=environment,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def wait_for_bytes(hub, proc, at_least, timeout=60.0):
    deadline = time.monotonic() + timeout
    while hub.bytes_sent(SHARD) < at_least:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the download did not start in time"
        time.sleep(0.02)


@pytest.mark.slow
def test_killed_download_resumes_in_a_new_process_without_refetching(env, hub, files):
    hub.throttle_bps = 100_000
    first = hearth(env, hub, "models", "download", "gpt-oss-20b")
    wait_for_bytes(hub, first, 50_000)
    first.kill()  # SIGKILL: no cleanup, no chance to save anything
    first.communicate(timeout=30)
    part = env / "models" / ".downloads" / "gpt-oss-20b" / (SHARD + ".part")
    kept = part.stat().st_size
    assert 0 < kept < len(files[SHARD])

    hub.throttle_bps = None
    second = hearth(env, hub, "models", "resume", "gpt-oss-20b")
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    resumed = hub.requests_for(SHARD)[-1]
    assert resumed.range == f"bytes={kept}-" and resumed.sent == len(files[SHARD]) - kept
    # Across both processes the shard crossed the network once, plus what was in flight at the kill.
    in_flight = hub.bytes_sent(SHARD) - len(files[SHARD])
    assert 0 <= in_flight < 100_000
    assert len(hub.requests_for("config.json")) == 1  # finished files are not fetched again
    store = ModelStore(env / "models", offline=True)
    assert store.verify("gpt-oss-20b").ok


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c", "pause-command"])
def test_interrupted_download_pauses_with_its_exit_code(env, hub, files, how):
    # Slow enough that the whole download (~11 s) cannot finish while `pause` starts up.
    hub.throttle_bps = 30_000
    downloader = hearth(env, hub, "models", "download", "gpt-oss-20b")
    wait_for_bytes(hub, downloader, 20_000)
    if how == "ctrl-c":
        downloader.send_signal(signal.SIGINT)
    else:
        pauser = hearth(env, hub, "models", "pause", "gpt-oss-20b")
        out, err = pauser.communicate(timeout=60)
        assert pauser.returncode == 0, err
        assert "Paused the download" in out
    out, err = downloader.communicate(timeout=60)
    assert downloader.returncode == exit_codes.PAUSED, err
    assert "Paused. Everything fetched is kept" in out
    store = ModelStore(env / "models", offline=True)
    assert store.info("gpt-oss-20b").status == "partial"
    hub.throttle_bps = None
    assert store.__class__(env / "models", offline=False, endpoint=hub.url).download("gpt-oss-20b").status == (
        "installed"
    )
