"""Downloads against the fake hub on 127.0.0.1: full download, pause/resume, cancel, server
errors, stalls, dropped connections, corruption, disk full, offline mode.

Every network loop here is bounded: RetryPolicy caps tries and the fake hub's stalls end by
themselves; waits for a transfer to reach some point poll with a deadline.
"""

from __future__ import annotations

import errno
import shutil
import sys
import threading
import time
from collections import namedtuple
from pathlib import Path

import pytest

import core.store.downloads
from core.errors import Cancelled, DiskFull, DownloadFailed, InvalidInput, ModelNotFound, OfflineMode
from core.store.downloads import RetryPolicy
from core.store.model_store import ModelStore
from tests.fakehub import FakeHub
from tests.faults import failing_writes
from tests.model_fixtures import REPO_ID, root_files

SHARD = "model-00001-of-00002.safetensors"
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, connect_timeout=2.0, stall_timeout=0.5)


@pytest.fixture
def store(tmp_path, hub):
    return ModelStore(tmp_path / "models", offline=False, endpoint=hub.url, retry=FAST_RETRY)


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def assert_installed(store, files):
    folder = store.path("gpt-oss-20b")
    for path, data in root_files(files).items():
        assert (folder / path).read_bytes() == data, path
    assert not (folder / "original").exists() and not (folder / "metal").exists()
    assert store.verify("gpt-oss-20b").ok


def test_full_download_fetches_root_format_only(store, hub, files):
    events = []
    outcome = store.download("gpt-oss-20b", progress=events.append)
    assert outcome.status == "installed"
    assert outcome.fetched_bytes == sum(len(b) for b in root_files(files).values())
    assert_installed(store, files)
    # original/, metal/ and git metadata are never requested.
    assert hub.paths_requested() == set(root_files(files))
    assert not (store.models_dir / ".downloads" / "gpt-oss-20b").exists()
    manifest = store.manifest("gpt-oss-20b")
    assert manifest.commit == hub.repo(REPO_ID).commit and manifest.format == "hf"
    assert {f.path for f in manifest.files} == set(root_files(files))
    # Progress: the catalogue's estimate until the hub tells the real total, then that total
    # throughout; bytes never go backwards; ends done at 100 %.
    assert events[0].phase == "preparing" and events[0].total == 13_762_000_000
    assert {e.total for e in events[1:]} == {outcome.fetched_bytes}
    done = [e.done for e in events]
    assert done == sorted(done)
    assert events[-1].phase == "done" and events[-1].fraction == 1.0
    assert store.info("gpt-oss-20b").status == "installed"
    # Asking again is a no-op.
    assert store.download("gpt-oss-20b").fetched_bytes == 0


def test_pause_then_resume_fetches_only_the_rest(store, hub, files):
    hub.throttle_bps = 400_000
    pause = threading.Event()

    def on_progress(p):
        if p.file == SHARD and p.file_done > 50_000:
            pause.set()

    outcome = store.download("gpt-oss-20b", progress=on_progress, pause=pause)
    assert outcome.status == "paused"
    part = store.partial_dir("gpt-oss-20b") / (SHARD + ".part")
    have = part.stat().st_size
    assert 0 < have < len(files[SHARD])
    assert store.info("gpt-oss-20b").status == "partial"

    hub.throttle_bps = None
    outcome = store.download("gpt-oss-20b")
    assert outcome.status == "installed"
    resumed = hub.requests_for(SHARD)[-1]
    assert resumed.range == f"bytes={have}-" and resumed.status == 206
    assert resumed.sent == len(files[SHARD]) - have
    assert len(hub.requests_for("config.json")) == 1  # finished files are not fetched again
    assert_installed(store, files)


def pause_midway(store, hub):
    """Starts the download and pauses it a little way into SHARD."""
    hub.throttle_bps = 400_000
    pause = threading.Event()

    def on_progress(p):
        if p.file == SHARD and p.file_done > 50_000:
            pause.set()

    assert store.download("gpt-oss-20b", progress=on_progress, pause=pause).status == "paused"
    hub.throttle_bps = None


@pytest.mark.parametrize("new_commit", [True, False], ids=["new commit", "new bytes, same commit"])
def test_a_resume_after_the_model_changed_on_the_hub_starts_the_changed_files_over(store, hub, files, new_commit):
    # Every resume once failed: the old commit answered 404, or the old checksum could never match.
    pause_midway(store, hub)
    repo = hub.repo(REPO_ID)
    changed = bytearray(repo.files[SHARD])
    changed[-100:] = bytes(100)  # same size, other bytes: only the checksum tells
    repo.files[SHARD] = bytes(changed)
    if new_commit:
        repo.commit = "c" * 40  # the fake hub serves `main` and the current commit only
    config_requests = len(hub.requests_for("config.json"))
    messages = []
    outcome = store.download("gpt-oss-20b", progress=lambda p: p.message and messages.append(p.message))
    assert outcome.status == "installed"
    assert store.manifest("gpt-oss-20b").commit == repo.commit
    assert (store.path("gpt-oss-20b") / SHARD).read_bytes() == bytes(changed)
    assert any("changed on the hub" in m and "1 of its files" in m for m in messages), messages
    assert len(hub.requests_for("config.json")) == config_requests  # unchanged files are kept
    assert store.verify("gpt-oss-20b").ok


def test_pause_request_from_another_process(store, hub):
    hub.throttle_bps = 200_000
    result = {}
    worker = threading.Thread(target=lambda: result.update(outcome=store.download("gpt-oss-20b")))
    worker.start()
    wait_until(lambda: hub.bytes_sent(SHARD) > 20_000)
    # A second ModelStore stands for the `hearth models pause` process: it only sees the disk.
    other = ModelStore(store.models_dir, offline=True)
    assert other.is_downloading("gpt-oss-20b")
    assert other.request_pause("gpt-oss-20b")
    worker.join(timeout=10)
    assert result["outcome"].status == "paused"
    assert not other.is_downloading("gpt-oss-20b")
    assert not other.request_pause("gpt-oss-20b")


def test_cancel_removes_partial_files(store, hub):
    hub.throttle_bps = 400_000
    cancel = threading.Event()
    with pytest.raises(Cancelled, match="cancelled"):
        store.download("gpt-oss-20b", progress=lambda p: p.file == SHARD and cancel.set(), cancel=cancel)
    assert not store.partial_dir("gpt-oss-20b").exists()
    assert store.info("gpt-oss-20b").status == "available"


def test_server_errors_are_retried_with_a_message(store, hub, files):
    hub.fail_api(503, times=1)
    hub.fail(SHARD, 500, times=2)
    messages = []
    store.download("gpt-oss-20b", progress=lambda p: p.message and messages.append(p.message))
    assert_installed(store, files)
    assert sum("error 500" in m for m in messages) == 2
    assert any("error 503" in m for m in messages)
    assert all("Retrying in" in m for m in messages)


def test_persistent_server_errors_give_up_and_keep_what_was_fetched(store, hub, files):
    hub.fail(SHARD, 502, times=100)
    with pytest.raises(DownloadFailed) as error:
        store.download("gpt-oss-20b")
    assert str(error.value) == (f"The download of gpt-oss-20b stopped after {FAST_RETRY.attempts} tries, because the "
                                "server answered with error 502. What was downloaded is kept; try again later to go "
                                "on from there.")
    assert error.value.details == f"gave up downloading {SHARD}"
    assert len(hub.requests_for(SHARD)) == FAST_RETRY.attempts
    partial = store.partial_dir("gpt-oss-20b")
    assert (partial / "config.json").read_bytes() == files["config.json"]
    assert store.info("gpt-oss-20b").status == "partial"


def test_a_server_that_always_sends_too_much_is_given_up_on(store, hub, files):
    # Every such try once counted as progress, so the shard was downloaded again forever
    # (89 full downloads in 90 s, each line "try 2 of 8").
    hub.oversize(SHARD, extra_bytes=1000, times=100)
    with pytest.raises(DownloadFailed, match="more bytes than the file has"):
        store.download("gpt-oss-20b")
    assert len(hub.requests_for(SHARD)) <= FAST_RETRY.attempts
    assert store.info("gpt-oss-20b").status == "partial"
    hub.clear_faults()  # the mirror is fixed: resuming finishes the download
    assert store.download("gpt-oss-20b").status == "installed"


def test_not_found_is_not_retried(tmp_path):
    with FakeHub([]) as empty:
        store = ModelStore(tmp_path, offline=False, endpoint=empty.url, retry=FAST_RETRY)
        with pytest.raises(ModelNotFound, match="openai/gpt-oss-20b"):
            store.download("gpt-oss-20b")
        assert len(empty.log) == 1


def test_stalled_connection_times_out_and_resumes(store, hub, files):
    hub.stall_seconds = 3.0
    hub.stall(SHARD, after_bytes=40_000)
    started = time.monotonic()
    store.download("gpt-oss-20b")
    assert time.monotonic() - started < 3.0  # the stall_timeout (0.5 s) cut it, not the server
    first, second = hub.requests_for(SHARD)
    assert first.sent == 40_000 and second.range == "bytes=40000-"
    assert_installed(store, files)


def test_dropped_connection_resumes(store, hub, files):
    hub.drop(SHARD, after_bytes=70_000)
    store.download("gpt-oss-20b")
    assert [r.range for r in hub.requests_for(SHARD)] == [None, "bytes=70000-"]
    assert_installed(store, files)


def test_corrupt_transfer_is_deleted_and_fetched_again(store, hub, files):
    hub.corrupt(SHARD, times=1)
    messages = []
    store.download("gpt-oss-20b", progress=lambda p: p.message and messages.append(p.message))
    assert any("Part 1 of 2 of the model's weights arrived damaged" in m and "deleted" in m for m in messages)
    assert_installed(store, files)


def test_persistent_corruption_deletes_only_that_file(store, hub, files):
    hub.corrupt(SHARD, times=2)
    with pytest.raises(DownloadFailed, match="arrived damaged") as error:
        store.download("gpt-oss-20b")
    assert "deleted" in str(error.value) and "other files are kept" in str(error.value)
    assert SHARD not in str(error.value) and SHARD in error.value.details
    partial = store.partial_dir("gpt-oss-20b")
    assert not (partial / SHARD).exists() and not (partial / (SHARD + ".part")).exists()
    kept = [p for p in root_files(files) if p < SHARD]  # fetched before it, in name order
    assert kept and all((partial / p).read_bytes() == files[p] for p in kept)
    # The next run fetches the rest and finishes.
    store.download("gpt-oss-20b")
    assert_installed(store, files)


def test_not_enough_disk_is_refused_before_fetching(store, hub, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(core.store.downloads.shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10**6, 10**6))
    with pytest.raises(DiskFull, match=r"needs [0-9.]+ MiB of free disk space.*only 976\.6 KiB is free"):
        store.download("gpt-oss-20b")
    assert hub.paths_requested() == set()


def test_disk_filling_up_midway_keeps_the_partial_download(store, hub, files, monkeypatch):
    failing_writes(monkeypatch, core.store.downloads, errno.ENOSPC, lambda path, mode: path.endswith(SHARD + ".part"))
    with pytest.raises(DiskFull, match=r"is full; what was downloaded is kept\. Free some space"):
        store.download("gpt-oss-20b")
    monkeypatch.undo()
    assert store.info("gpt-oss-20b").status == "partial"
    store.download("gpt-oss-20b")
    assert_installed(store, files)


@pytest.fixture
def socket_connects():
    """Counts socket.connect calls while `recording` is set (audit hooks cannot be removed)."""
    state = {"recording": False, "count": 0, "addresses": set()}

    def hook(event, args):
        if event == "socket.connect" and state["recording"]:
            state["count"] += 1
            state["addresses"].add(args[1][0] if isinstance(args[1], tuple) else args[1])

    sys.addaudithook(hook)
    return state


def test_offline_mode_opens_no_socket(tmp_path, hub, monkeypatch, socket_connects, files):
    # The hook does see a real download's connections, so zero below means something.
    online = ModelStore(tmp_path / "online", offline=False, endpoint=hub.url, retry=FAST_RETRY)
    socket_connects["recording"] = True
    online.download("gpt-oss-20b")
    assert socket_connects["count"] > 0
    # ...and only to the fake hub: no telemetry or registry look-ups elsewhere.
    assert socket_connects["addresses"] == {"127.0.0.1"}

    monkeypatch.setenv("HEARTH_OFFLINE", "1")
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    socket_connects["count"] = 0
    offline = ModelStore(tmp_path / "offline")
    with pytest.raises(OfflineMode, match="Offline mode is on"):
        offline.download("gpt-oss-20b")
    with pytest.raises(OfflineMode):
        ModelStore(tmp_path / "param", offline=True, endpoint=hub.url).download("gpt-oss-120b")
    # Everything that does not need the network still works offline.
    offline.import_folder(online.path("gpt-oss-20b"))
    assert offline.verify("gpt-oss-20b").ok
    assert [m.status for m in offline.list()] == ["installed", "available"]
    offline.export("gpt-oss-20b", tmp_path / "usb")
    assert offline.delete("gpt-oss-20b") > 0
    socket_connects["recording"] = False
    assert socket_connects["count"] == 0


def test_a_second_download_of_the_same_model_is_refused(store, hub):
    hub.throttle_bps = 200_000
    worker = threading.Thread(target=store.download, args=("gpt-oss-20b",))
    worker.start()
    try:
        wait_until(lambda: hub.bytes_sent(SHARD) > 0)
        with pytest.raises(DownloadFailed, match="already being downloaded"):
            ModelStore(store.models_dir, offline=False, endpoint=hub.url).download("gpt-oss-20b")
        with pytest.raises(InvalidInput, match="Pause or cancel the download first"):
            store.delete("gpt-oss-20b")
    finally:
        store.request_pause("gpt-oss-20b")
        worker.join(timeout=10)
    shutil.rmtree(store.models_dir)


def test_the_fake_hub_speaks_the_protocol_huggingface_hub_expects(hub, files, tmp_path):
    """The fake hub is reusable by other tests only if the library itself accepts it."""
    from huggingface_hub import HfApi, hf_hub_download

    api = HfApi(endpoint=hub.url)
    tree = {e.path: e for e in api.list_repo_tree(REPO_ID, recursive=True)}
    assert tree[SHARD].lfs.sha256 == hub.repo(REPO_ID).sha256(SHARD)
    assert "original/model.safetensors" in tree and "metal" in tree
    top = {e.path for e in api.list_repo_tree(REPO_ID)}
    assert "original" in top and "original/model.safetensors" not in top
    (info,) = api.get_paths_info(REPO_ID, [SHARD])
    assert info.size == len(files[SHARD]) and info.lfs.sha256 == tree[SHARD].lfs.sha256
    path = hf_hub_download(REPO_ID, SHARD, endpoint=hub.url, cache_dir=tmp_path / "cache")
    assert Path(path).read_bytes() == files[SHARD]


def test_a_bad_hub_address_fails_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "")
    assert ModelStore(tmp_path, offline=False).endpoint == "https://huggingface.co"
    store = ModelStore(tmp_path, offline=False, endpoint="ftp://127.0.0.1:9", retry=FAST_RETRY)
    with pytest.raises(DownloadFailed, match="cannot reach the hub with these settings"):
        store.download("gpt-oss-20b")


def test_token_goes_to_the_hub_but_not_to_the_cdn(tmp_path, hub, files):
    store = ModelStore(tmp_path, offline=False, endpoint=hub.url, token="hf_secret", retry=FAST_RETRY)
    store.download("gpt-oss-20b")
    hub_side = [r for r in hub.log if r.host == "hub"]
    cdn_side = [r for r in hub.log if r.host == "cdn"]
    assert hub_side and all(r.authorization == "Bearer hf_secret" for r in hub_side)
    assert {r.path for r in cdn_side} == {p for p in root_files(files) if p.endswith(".safetensors")}
    assert all(r.authorization is None for r in cdn_side)


def test_a_hub_that_cannot_be_reached_is_said_in_words_not_an_exception_class(tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on once this closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = ModelStore(tmp_path / "models", offline=False, endpoint=f"http://127.0.0.1:{port}", retry=FAST_RETRY)
    with pytest.raises(DownloadFailed) as error:
        store.download("gpt-oss-20b")
    # Once: "... (the connection failed (ConnectError))".
    assert str(error.value).startswith(f"The download of gpt-oss-20b stopped after {FAST_RETRY.attempts} tries, "
                                       "because Hearth could not connect to the hub (is this computer online?).")
    assert "ConnectError" not in str(error.value) and "ConnectError" in error.value.details
