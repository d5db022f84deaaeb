"""The model store under faults a person meets: a read-only models folder (the policy's fixed
`models_dir` may be one), a damaged manifest, the lock a finished download used to leave,
files this account may not read, and a folder that is a link loop.

The read-only folder is a real read-only bind mount (root can write through any file mode, but
not through a read-only mount); where mounting is not allowed the test is skipped with a reason.
"""

from __future__ import annotations

import pytest

from core.errors import CorruptCheckpoint, FileNotReadable, FolderNotWritable, InvalidInput, ModelNotFound
from core.store.locks import ProcessLock
from core.store.model_files import MANIFEST_NAME
from core.store.model_store import ModelStore
from tests.core.store.test_downloads import FAST_RETRY
from tests.faults import deny_reading, read_only
from tests.model_fixtures import root_files, write_folder


@pytest.fixture
def installed(tmp_path, files, hub):
    """A store whose models folder holds a downloaded gpt-oss-20b."""
    store = ModelStore(tmp_path / "models", offline=False, endpoint=hub.url, retry=FAST_RETRY)
    store.download("gpt-oss-20b")
    return store


def test_a_finished_download_leaves_no_lock_file_and_testing_a_lock_creates_none(installed, tmp_path):
    assert not list((installed.models_dir / ".downloads").glob("*.lock"))
    lock = ProcessLock(tmp_path / "a.lock")
    assert not lock.is_held_elsewhere() and not lock.path.exists()
    assert lock.acquire() and lock.path.exists()
    assert ProcessLock(lock.path).is_held_elsewhere()
    lock.release()
    assert not lock.path.exists() and not ProcessLock(lock.path).is_held_elsewhere()


def test_a_read_only_models_folder_lists_verifies_exports_and_loads(installed, tmp_path, files):
    # A lock file from a download that finished before the folder was made read-only: opening it
    # for writing once made every listing fail with "Read-only file system" (and the window abort).
    (installed.models_dir / ".downloads" / "gpt-oss-120b.lock").touch()
    source = write_folder(tmp_path / "elsewhere", root_files(files))
    with read_only(installed.models_dir):
        assert [m.status for m in installed.list()] == ["installed", "available"]
        assert not installed.is_downloading("gpt-oss-120b")
        assert installed.verify("gpt-oss-20b").ok
        exported = installed.export("gpt-oss-20b", tmp_path / "out")
        assert (exported / MANIFEST_NAME).is_file()
        from core import load_model

        assert load_model(installed.path("gpt-oss-20b")).config.num_hidden_layers >= 1
        # What must write says so in a sentence naming the folder, and changes nothing.
        for attempt in (lambda: installed.import_folder(source, model_id="gpt-oss-120b"),
                        lambda: installed.download("gpt-oss-120b"),
                        lambda: installed.delete("gpt-oss-20b")):
            with pytest.raises(FolderNotWritable, match="read-only disk") as refusal:
                attempt()
            assert str(installed.models_dir) in str(refusal.value)
        assert installed.verify("gpt-oss-20b").ok


def test_a_models_folder_that_cannot_be_created_is_refused_in_a_sentence(tmp_path, files):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = ModelStore(blocker / "models", offline=True)
    source = write_folder(tmp_path / "src", root_files(files))
    with pytest.raises(FolderNotWritable, match="does not exist and cannot be created"):
        store.import_folder(source, model_id="gpt-oss-20b")


def test_a_damaged_manifest_is_listed_as_damaged_and_can_be_deleted(installed, tmp_path, files):
    manifest = installed.model_dir("gpt-oss-20b") / MANIFEST_NAME
    manifest.write_text('{"files": [')  # cut off mid-write
    infos = {m.id: m for m in installed.list()}  # once: every model's listing failed
    assert infos["gpt-oss-20b"].status == "damaged" and "damaged" in infos["gpt-oss-20b"].problem
    assert infos["gpt-oss-120b"].status == "available"
    with pytest.raises(CorruptCheckpoint, match="Delete gpt-oss-20b"):
        installed.verify("gpt-oss-20b")
    source = write_folder(tmp_path / "src", root_files(files))
    with pytest.raises(InvalidInput, match="damaged"):  # once: "already installed", a dead end
        installed.import_folder(source, model_id="gpt-oss-20b")
    assert installed.delete("gpt-oss-20b") > 0
    assert installed.info("gpt-oss-20b").status == "available"
    installed.import_folder(source, model_id="gpt-oss-20b")
    assert installed.verify("gpt-oss-20b").ok


def test_the_lock_survives_a_holder_removing_it_between_open_and_lock(tmp_path, monkeypatch):
    # A waiter that opened the old file just before its holder removed it must not end up
    # "holding" a file no one else can see.
    path = tmp_path / "x.lock"
    first = ProcessLock(path)
    assert first.acquire()
    import core.store.locks as locks

    real_try_lock = locks._try_lock
    calls = []

    def racing_try_lock(fd):
        calls.append(fd)
        if len(calls) == 1:
            first.release()  # the holder finishes and removes the file right now
        return real_try_lock(fd)

    monkeypatch.setattr(locks, "_try_lock", racing_try_lock)
    second = ProcessLock(path)
    assert second.acquire()
    assert len(calls) == 2 and path.exists()  # it retried on the file now at `path`
    second.release()


@pytest.mark.parametrize("name", ["config.json", "model-00001-of-00002.safetensors"])
def test_unreadable_files_are_named_in_a_sentence_on_import_verify_and_export(installed, tmp_path, files,
                                                                             monkeypatch, name):
    source = write_folder(tmp_path / "src", root_files(files))
    target = ModelStore(tmp_path / "other-models", offline=True)
    with monkeypatch.context() as patch:
        deny_reading(patch, name)
        with pytest.raises(FileNotReadable, match="not allowed to read it") as refusal:  # once: PermissionError
            target.import_folder(source, model_id="gpt-oss-20b")
        assert name in str(refusal.value)
        report = installed.verify("gpt-oss-20b")  # once: PermissionError
        assert [(p.path, p.problem) for p in report.problems] == [(name, "cannot be read")]
        with pytest.raises(FileNotReadable, match=name):
            installed.export("gpt-oss-20b", tmp_path / "out")
    assert not (tmp_path / "out" / "gpt-oss-20b").exists() and target.info("gpt-oss-20b").status == "available"


def test_a_model_folder_that_is_a_link_loop_is_refused_in_a_sentence(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(ModelNotFound, match="leads back to itself"):  # once: RuntimeError
        ModelStore(tmp_path / "models", offline=True).import_folder(loop, model_id="gpt-oss-20b")
