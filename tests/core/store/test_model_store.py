"""Model store without the network: catalogue, models directory, checkpoint checks, list,
verify, delete, progress arithmetic."""

from __future__ import annotations

import json

import pytest

from core.engine import catalogue
from core.engine.config import GPT_OSS_20B, GPT_OSS_120B, PRESETS
from core.engine.safetensors_header import read_header
from core.errors import CorruptCheckpoint, InvalidConfig, ModelNotFound
from core.store.model_files import inspect_checkpoint
from core.store.model_store import ModelStore
from core.store.progress import ProgressMeter
from core.system.environment import default_models_dir, offline_from_env
from tests.model_fixtures import write_folder


@pytest.fixture
def hf_folder(tmp_path, files):
    root = {p: b for p, b in files.items() if "/" not in p}
    return write_folder(tmp_path / "hf", root)


def test_catalogue_ids_and_unknown_id_sentence():
    assert set(catalogue.CATALOGUE) == {"gpt-oss-20b", "gpt-oss-120b"}
    assert catalogue.entry("gpt-oss-120b").repo == "openai/gpt-oss-120b"
    with pytest.raises(ModelNotFound, match="does not know a model called “llama”"):
        catalogue.entry("llama")


def test_only_root_files_are_part_of_the_download():
    assert catalogue.is_root_format_file("model-00001-of-00003.safetensors")
    assert catalogue.is_root_format_file("tokenizer.json")
    assert not catalogue.is_root_format_file("original/model.safetensors")
    assert not catalogue.is_root_format_file("metal/model.bin")
    assert not catalogue.is_root_format_file(".gitattributes")


def test_catalogue_recognises_published_configs():
    assert catalogue.entry_for_config({"num_hidden_layers": 24, "num_local_experts": 32}).id == "gpt-oss-20b"
    # OpenAI's own config names the expert count differently.
    assert catalogue.entry_for_config({"num_hidden_layers": 36, "num_experts": 128}).id == "gpt-oss-120b"
    assert catalogue.entry_for_config({"num_hidden_layers": 2, "num_local_experts": 8}) is None
    assert catalogue.entry_for_config(GPT_OSS_120B).id == "gpt-oss-120b"


def test_catalogue_shapes_are_the_config_presets():
    # One copy of the published numbers: core.engine.config's presets.
    assert {model_id: e.config for model_id, e in catalogue.CATALOGUE.items()} == PRESETS
    assert catalogue.entry("gpt-oss-20b").config is GPT_OSS_20B


def test_models_dir_from_env_and_parameter(monkeypatch, tmp_path):
    monkeypatch.setenv("HEARTH_MODELS_DIR", str(tmp_path / "env"))
    assert default_models_dir() == tmp_path / "env"
    assert ModelStore().models_dir == tmp_path / "env"
    assert ModelStore(tmp_path / "param").models_dir == tmp_path / "param"
    monkeypatch.delenv("HEARTH_MODELS_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_models_dir().parts[-2:] == ("Hearth", "models")


@pytest.mark.parametrize(("value", "offline"), [("1", True), ("true", True), ("0", False), ("", False)])
def test_offline_from_env(monkeypatch, value, offline):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HEARTH_OFFLINE", value)
    assert offline_from_env() is offline
    assert ModelStore("x").offline is offline
    assert ModelStore("x", offline=True).offline is True


def test_inspect_hf_folder_lists_model_files_only(hf_folder):
    layout = inspect_checkpoint(hf_folder)
    assert layout.format == "hf"
    assert "model-00001-of-00002.safetensors" in layout.files
    assert "tokenizer.json" in layout.files and "config.json" in layout.files
    assert layout.config["num_hidden_layers"] == 2


def test_inspect_original_formats(tmp_path, files):
    nested = write_folder(tmp_path / "nested", {p: b for p, b in files.items() if p.startswith("original/")})
    layout = inspect_checkpoint(nested)
    assert layout.format == "original"
    assert set(layout.files) == {"original/config.json", "original/dtypes.json", "original/model.safetensors"}
    flat = inspect_checkpoint(nested / "original")
    assert flat.format == "original" and "model.safetensors" in flat.files


def test_truncated_shard_is_corrupt(hf_folder):
    shard = hf_folder / "model-00002-of-00002.safetensors"
    shard.write_bytes(shard.read_bytes()[:-10])
    with pytest.raises(CorruptCheckpoint, match="cut short") as refused:
        inspect_checkpoint(hf_folder)
    assert refused.value.fault == ("part 2 of 2 of its weights is damaged (it is cut short: the download or copy "
                                   "did not finish)")


def test_a_folder_without_a_model_says_what_it_lacks_in_plain_words(tmp_path, hf_folder):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelNotFound) as refused:
        inspect_checkpoint(empty)
    assert str(refused.value) == f"The folder {empty} does not hold a complete model: the folder is empty."
    assert refused.value.fault == "the folder is empty" and "config.json" in refused.value.details
    (empty / "notes.txt").write_text("hello")
    with pytest.raises(ModelNotFound, match="its settings file and its weights are missing"):
        inspect_checkpoint(empty)
    (hf_folder / "config.json").unlink()
    with pytest.raises(ModelNotFound) as refused:
        inspect_checkpoint(hf_folder)
    assert refused.value.fault == "its settings file is missing" and "config.json" not in str(refused.value)


def test_garbage_header_is_corrupt(tmp_path):
    bad = tmp_path / "x.safetensors"
    bad.write_bytes(b"\xff" * 64)
    with pytest.raises(CorruptCheckpoint):
        read_header(bad)


def test_missing_shard_and_bad_config(hf_folder):
    (hf_folder / "model-00001-of-00002.safetensors").unlink()
    with pytest.raises(ModelNotFound, match="part 1 of 2 of its weights is missing") as refused:
        inspect_checkpoint(hf_folder)
    assert refused.value.details == "missing: model-00001-of-00002.safetensors"
    (hf_folder / "config.json").write_text("{not json")
    with pytest.raises(InvalidConfig):
        inspect_checkpoint(hf_folder)


def test_index_naming_a_tensor_the_shard_lacks(hf_folder):
    index = json.loads((hf_folder / "model.safetensors.index.json").read_text())
    index["weight_map"]["model.layers.9.mlp.router.bias"] = "model-00001-of-00002.safetensors"
    (hf_folder / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(CorruptCheckpoint, match="part 1 of 2 of its weights lacks 1 of the pieces") as refused:
        inspect_checkpoint(hf_folder)
    assert "lacks 1 tensors, e.g. model.layers.9.mlp.router.bias" in refused.value.details


def test_list_verify_delete(tmp_path, hf_folder):
    store = ModelStore(tmp_path / "models", offline=True)
    assert [m.status for m in store.list()] == ["available", "available"]
    with pytest.raises(ModelNotFound):
        store.path("gpt-oss-20b")
    store.import_folder(hf_folder, model_id="gpt-oss-20b")
    info = store.info("gpt-oss-20b")
    assert info.status == "installed" and info.path == tmp_path / "models" / "gpt-oss-20b"
    assert store.verify("gpt-oss-20b").ok

    shard = info.path / "model-00002-of-00002.safetensors"
    data = bytearray(shard.read_bytes())
    data[-1] ^= 1  # same size, one bit different
    shard.write_bytes(bytes(data))
    (info.path / "tokenizer.json").unlink()
    report = store.verify("gpt-oss-20b")
    assert not report.ok
    assert {(p.path, p.problem) for p in report.problems} == {
        ("model-00002-of-00002.safetensors", "wrong checksum"),
        ("tokenizer.json", "missing"),
    }

    expected = sum(p.stat().st_size for p in info.path.rglob("*") if p.is_file())
    assert store.delete("gpt-oss-20b") == expected
    assert store.info("gpt-oss-20b").status == "available"
    with pytest.raises(ModelNotFound, match="nothing to delete"):
        store.delete("gpt-oss-20b")


def test_progress_meter_speed_and_eta():
    now = [0.0]
    events = []
    meter = ProgressMeter("m", total=1000, callback=events.append, done=100, clock=lambda: now[0])
    meter.start_file("a", 900)
    for _ in range(4):
        now[0] += 0.5
        meter.advance(100)
    last = events[-1]
    assert last.done == 500 and last.file_done == 400
    assert last.bytes_per_second == pytest.approx(200.0)
    assert last.eta_seconds == pytest.approx(500 / 200.0)
    assert last.fraction == pytest.approx(0.5)
