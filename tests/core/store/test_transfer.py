"""Import and export with no network: both published formats, in-place registration, the
manifest round trip between two machines, and every way the source can be bad."""

from __future__ import annotations

import errno
import json
import threading
from collections import namedtuple

import pytest

import core.store.transfer
from core import load_model
from core.errors import (
    Cancelled,
    CorruptCheckpoint,
    DiskFull,
    InvalidConfig,
    InvalidInput,
    ModelNotFound,
    NotEnoughMemory,
)
from core.store.model_files import MANIFEST_NAME, sha256_file
from core.store.model_store import ModelStore
from tests.faults import failing_writes
from tests.model_fixtures import repo_files, root_files, write_folder


@pytest.fixture(scope="module")
def files():
    return repo_files()


@pytest.fixture
def hf_folder(tmp_path, files):
    return write_folder(tmp_path / "usb" / "hf", root_files(files))


@pytest.fixture
def store(tmp_path):
    return ModelStore(tmp_path / "models", offline=True)


def test_import_hf_copies_checks_and_records(store, hf_folder, files):
    events = []
    info = store.import_folder(hf_folder, model_id="gpt-oss-20b", progress=events.append)
    assert info.status == "installed" and not info.in_place
    for path, data in root_files(files).items():
        assert (info.path / path).read_bytes() == data
    manifest = store.manifest("gpt-oss-20b")
    assert manifest.format == "hf" and manifest.commit is None and manifest.repo == "openai/gpt-oss-20b"
    assert all(f.sha256 == sha256_file(info.path / f.path) for f in manifest.files)
    assert {e.phase for e in events} >= {"copying", "done"}
    assert events[-1].done == events[-1].total == sum(len(b) for b in root_files(files).values())
    assert not (store.models_dir / ".incoming" / "gpt-oss-20b").exists()
    load_model(store.path("gpt-oss-20b"))


@pytest.mark.parametrize("layout", ["nested", "flat"])
def test_import_original_format(store, tmp_path, files, layout):
    original = {p: b for p, b in files.items() if p.startswith("original/")}
    folder = write_folder(tmp_path / "orig", original | {"tokenizer.json": files["tokenizer.json"]})
    src = folder if layout == "nested" else folder / "original"
    info = store.import_folder(src, model_id="gpt-oss-20b")
    assert store.manifest("gpt-oss-20b").format == "original"
    expected = set(original) | {"tokenizer.json"} if layout == "nested" else {p[len("original/"):] for p in original}
    assert {f.path for f in store.manifest("gpt-oss-20b").files} == expected
    load_model(info.path)


def test_a_model_that_does_not_load_is_not_installed(store, hf_folder):
    config = json.loads((hf_folder / "config.json").read_text())
    config["hidden_size"] = 96  # the shards hold 64-wide tensors: the engine's load-check refuses
    (hf_folder / "config.json").write_text(json.dumps(config))
    with pytest.raises((CorruptCheckpoint, InvalidConfig)):
        store.import_folder(hf_folder, model_id="gpt-oss-20b")
    assert store.info("gpt-oss-20b").status == "available"
    assert not (store.models_dir / ".incoming" / "gpt-oss-20b").exists()
    assert (hf_folder / "model-00001-of-00002.safetensors").exists()  # the source is never touched


def test_unidentifiable_and_mismatched_models(store, hf_folder):
    with pytest.raises(InvalidInput, match="cannot tell which model"):
        store.import_folder(hf_folder)
    # The 120b's whole shape (the fields not given default to the published values).
    (hf_folder / "config.json").write_text(json.dumps({"num_hidden_layers": 36, "num_local_experts": 128}))
    with pytest.raises(InvalidInput, match="holds gpt-oss-120b, not gpt-oss-20b"):
        store.import_folder(hf_folder, model_id="gpt-oss-20b")


def test_import_refuses_an_installed_model(store, hf_folder):
    store.import_folder(hf_folder, model_id="gpt-oss-20b")
    with pytest.raises(InvalidInput, match="already installed"):
        store.import_folder(hf_folder, model_id="gpt-oss-20b")


def test_in_place_registration(store, hf_folder):
    info = store.import_folder(hf_folder, model_id="gpt-oss-20b", copy=False)
    assert info.in_place and info.path == hf_folder.resolve()
    assert sorted(p.name for p in store.model_dir("gpt-oss-20b").iterdir()) == [MANIFEST_NAME]
    assert store.verify("gpt-oss-20b").ok
    assert store.delete("gpt-oss-20b") == 0  # the files were never ours to delete
    assert (hf_folder / "model-00001-of-00002.safetensors").exists()


def test_export_then_import_on_another_machine(store, tmp_path, hf_folder, files):
    store.import_folder(hf_folder, model_id="gpt-oss-20b")
    target = store.export("gpt-oss-20b", tmp_path / "stick")
    assert target == tmp_path / "stick" / "gpt-oss-20b"
    assert not (tmp_path / "stick" / "gpt-oss-20b.partial").exists()
    manifest = json.loads((target / MANIFEST_NAME).read_text())
    assert manifest["catalogue_id"] == "gpt-oss-20b" and manifest["format"] == "hf"
    assert {f["path"]: f["size"] for f in manifest["files"]} == {p: len(b) for p, b in root_files(files).items()}

    other = ModelStore(tmp_path / "other-machine", offline=True)
    info = other.import_folder(target)  # the manifest says which model it is
    assert info.id == "gpt-oss-20b" and other.verify("gpt-oss-20b").ok
    with pytest.raises(InvalidInput, match="already exists"):
        store.export("gpt-oss-20b", tmp_path / "stick")


def test_import_checks_hashes_against_the_manifest(store, tmp_path, hf_folder):
    store.import_folder(hf_folder, model_id="gpt-oss-20b")
    target = store.export("gpt-oss-20b", tmp_path / "stick")
    shard = target / "model-00002-of-00002.safetensors"
    data = bytearray(shard.read_bytes())
    data[-1] ^= 1
    shard.write_bytes(bytes(data))
    other = ModelStore(tmp_path / "other", offline=True)
    with pytest.raises(CorruptCheckpoint, match=r"part 2 of 2 of its weights is damaged \(its checksum"):
        other.import_folder(target)
    assert other.info("gpt-oss-20b").status == "available"
    shard.unlink()
    with pytest.raises(ModelNotFound):
        other.import_folder(target)


def test_export_catches_a_damaged_installed_file(store, tmp_path, hf_folder):
    store.import_folder(hf_folder, model_id="gpt-oss-20b")
    tokenizer = store.path("gpt-oss-20b") / "tokenizer.json"
    tokenizer.write_bytes(tokenizer.read_bytes().replace(b"BPE", b"XYZ"))
    with pytest.raises(CorruptCheckpoint, match=r"tokenizer\.json of gpt-oss-20b is damaged"):
        store.export("gpt-oss-20b", tmp_path / "stick")
    assert list((tmp_path / "stick").iterdir()) == []


def test_cancel_and_disk_full_leave_nothing_behind(store, hf_folder, monkeypatch):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        store.import_folder(hf_folder, model_id="gpt-oss-20b", cancel=cancel)
    assert not (store.models_dir / ".incoming" / "gpt-oss-20b").exists()
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(core.store.transfer.shutil, "disk_usage", lambda p: usage(10**9, 10**9, 1000))
    with pytest.raises(DiskFull, match=r"only 1000 bytes is free"):
        store.import_folder(hf_folder, model_id="gpt-oss-20b")
    assert store.info("gpt-oss-20b").status == "available"


def test_a_machine_too_small_to_run_the_model_can_still_install_it(store, hf_folder, monkeypatch):
    import core.engine.model

    def small_machine(path, device="cpu"):
        raise NotEnoughMemory("This model needs 12.8 GiB but the computer has only 8.0 GiB.")

    monkeypatch.setattr(core.engine.model, "load_model", small_machine)
    assert store.import_folder(hf_folder, model_id="gpt-oss-20b").status == "installed"


def test_export_to_a_fat32_drive_says_why_it_fails(store, tmp_path, hf_folder, monkeypatch):
    store.import_folder(hf_folder, model_id="gpt-oss-20b")
    failing_writes(monkeypatch, core.store.transfer, errno.EFBIG, lambda path, mode: "w" in mode and "stick" in path)
    with pytest.raises(InvalidInput, match="FAT32"):
        store.export("gpt-oss-20b", tmp_path / "stick")
    assert list((tmp_path / "stick").iterdir()) == []
