"""core/engine/parts.py: the plain names of a model's files and tensors in sentences."""

from __future__ import annotations

import pytest

from core.engine.parts import THE_MODELS, capital, file_part, tensor_part


@pytest.mark.parametrize(("path", "words"), [
    ("model-00002-of-00003.safetensors", "part 2 of 3 of its weights"),
    ("original/model.safetensors", "its weights file"),
    ("model.safetensors.index.json", "the list of its weights files"),
    ("config.json", "its settings file"),
    ("tokenizer.json", "its vocabulary file"),
    ("shard-7.safetensors", "one of its weights files"),
    ("README.md", "one of its files"),
])
def test_files(path, words):
    assert file_part(path) == words


def test_a_sentence_of_its_own_names_the_model():
    assert capital(file_part("config.json", THE_MODELS)) == "The model's settings file"


@pytest.mark.parametrize(("name", "words"), [
    ("lm_head.weight", "the output layer"),
    ("unembedding.weight", "the output layer"),
    ("model.embed_tokens.weight", "the input layer"),
    ("model.norm.weight", "the last normalisation"),
    ("model.layers.1.self_attn.sinks", "the attention of layer 2"),
    ("block.0.attn.qkv.weight", "the attention of layer 1"),
    ("model.layers.3.mlp.router.bias", "the router of layer 4"),
    ("model.layers.0.mlp.experts.down_proj_blocks", "the experts of layer 1"),
    ("block.5.mlp.mlp1_weight.scales", "the experts of layer 6"),
    ("model.layers.0.input_layernorm.weight", "a normalisation of layer 1"),
    ("something.else", "a part of the weights"),
])
def test_tensors(name, words):
    assert tensor_part(name) == words
