"""Damaged or mismatched model folders get a typed error with a sentence a person understands."""

from __future__ import annotations

import json
import struct

import pytest
import torch

from core import load_model
from core.engine.testing import tiny_config, write_checkpoint
from core.errors import ContextOverflow, CorruptCheckpoint, InvalidConfig, InvalidInput, ModelNotFound

CONFIG = tiny_config()


@pytest.fixture
def folder(tmp_path):
    return write_checkpoint(tmp_path / "model", CONFIG, max_shard_bytes=200_000)


def shards(folder):
    return sorted(folder.glob("model-*.safetensors"))


def test_the_fixture_is_sharded_like_the_published_repo(folder):
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    assert len(shards(folder)) > 1
    assert set(index["weight_map"].values()) == {p.name for p in shards(folder)}
    assert index["weight_map"]["model.layers.0.mlp.experts.gate_up_proj_blocks"].startswith("model-")
    assert load_model(folder).config == CONFIG


def test_missing_folder(tmp_path):
    with pytest.raises(ModelNotFound, match="does not exist"):
        load_model(tmp_path / "nowhere")


def test_folder_without_model(tmp_path):
    with pytest.raises(ModelNotFound) as refused:
        load_model(tmp_path)
    assert str(refused.value) == f"The folder {tmp_path} does not hold a complete model: its settings file is missing."
    assert "config.json" in refused.value.details


def test_missing_shard(folder):
    last = shards(folder)[-1]
    last.unlink()
    with pytest.raises(ModelNotFound, match=r"part (\d+) of \1 of its weights is missing") as refused:
        load_model(folder)
    assert refused.value.details == f"missing: {last.name}"


def test_truncated_shard(folder):
    shard = shards(folder)[0]
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) - 1000])
    with pytest.raises(CorruptCheckpoint, match="cut short"):
        load_model(folder)


@pytest.mark.parametrize(
    "garbage", [b"", b"\x01\x02", struct.pack("<Q", 10**12) + b"{}", struct.pack("<Q", 4) + b"{{{{"]
)
def test_corrupt_header(folder, garbage):
    shards(folder)[0].write_bytes(garbage)
    with pytest.raises(CorruptCheckpoint, match="damaged"):
        load_model(folder)


def test_corrupt_index(folder):
    (folder / "model.safetensors.index.json").write_text("{")
    with pytest.raises(CorruptCheckpoint, match="list of the model's weights files is damaged") as refused:
        load_model(folder)
    assert "model.safetensors.index.json" in refused.value.details


def test_weights_that_do_not_match_the_config(folder):
    raw = json.loads((folder / "config.json").read_text())
    raw["hidden_size"] = 96
    (folder / "config.json").write_text(json.dumps(raw))
    with pytest.raises(CorruptCheckpoint, match="the size of the input layer is not the one the settings describe"
                       ) as refused:
        load_model(folder)
    assert "has shape [512, 64] but the settings need [512, 96]" in refused.value.details


def test_fewer_layers_in_config_than_in_weights(folder):
    raw = json.loads((folder / "config.json").read_text())
    raw["num_hidden_layers"] = 1
    raw["layer_types"] = raw["layer_types"][:1]
    (folder / "config.json").write_text(json.dumps(raw))
    with pytest.raises(InvalidConfig, match="more layers"):
        load_model(folder)


def test_missing_tensor(tmp_path):
    from core.engine.testing import random_weights

    tensors = random_weights(CONFIG)
    del tensors["model.layers.1.self_attn.sinks"]
    folder = write_checkpoint(tmp_path, CONFIG, tensors=tensors)
    with pytest.raises(CorruptCheckpoint) as refused:
        load_model(folder)
    # Once: "the tensor model.layers.1.self_attn.sinks is missing"; the name is for the details.
    assert str(refused.value).startswith("The model's weights are incomplete: they lack the attention of layer 2.")
    assert refused.value.details == "the tensor model.layers.1.self_attn.sinks is missing"


def test_wrong_dtype(tmp_path):
    from core.engine.testing import random_weights

    tensors = random_weights(CONFIG)
    name = "model.layers.0.mlp.experts.down_proj_blocks"
    tensors[name] = tensors[name].to(torch.int16)
    with pytest.raises(CorruptCheckpoint, match="The number format of the experts of layer 1 is not") as refused:
        load_model(write_checkpoint(tmp_path, CONFIG, tensors=tensors))
    assert name in refused.value.details


def test_token_ids_out_of_range(folder):
    model = load_model(folder)
    with pytest.raises(InvalidInput, match="Token id 512 is outside"):
        model.logits([1, 512])
    with pytest.raises(InvalidInput, match="Token id -1 is outside"):
        model.new_session().feed([-1])
    with pytest.raises(InvalidInput, match="no tokens"):
        model.new_session().feed([])


def test_prompt_longer_than_the_context(tmp_path):
    model = load_model(write_checkpoint(tmp_path, tiny_config(max_position_embeddings=16)))
    with pytest.raises(ContextOverflow, match="17 tokens, but its context holds 16"):
        model.logits(list(range(17)))
    session = model.new_session()
    session.feed(list(range(10)))
    with pytest.raises(ContextOverflow):
        session.feed(list(range(7)))


def test_model_bigger_than_memory(folder, monkeypatch):
    from collections import namedtuple

    from core.errors import NotEnoughMemory

    fake = namedtuple("vm", "total available")(1024, 1024)
    monkeypatch.setattr("core.engine.model.psutil.virtual_memory", lambda: fake)
    with pytest.raises(NotEnoughMemory, match=r"needs .* [KMG]iB but the computer has only"):
        load_model(folder)


def test_a_model_bigger_than_the_free_memory_is_refused_unless_loaded_anyway(folder, monkeypatch):
    from collections import namedtuple

    from core.errors import MemoryTight

    # The check once compared with the total only: with 100 MiB free a 14 GiB model was loaded.
    fake = namedtuple("vm", "total available")(64 * 2**30, 20 * 2**10)
    monkeypatch.setattr("core.engine.model.psutil.virtual_memory", lambda: fake)
    with pytest.raises(MemoryTight, match=r"only 20.0 KiB of the computer's 64.0 GiB is free right now") as refusal:
        load_model(folder)
    assert "load it anyway" in str(refusal.value)
    assert load_model(folder, load_anyway=True).config.num_hidden_layers >= 1
