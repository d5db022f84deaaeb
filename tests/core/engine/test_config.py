"""ModelConfig from both published config.json formats, and refusals of bad ones."""

from __future__ import annotations

import json

import pytest

from core.engine.config import (
    GPT_OSS_20B,
    GPT_OSS_120B,
    config_from_dict,
    hf_config_dict,
    load_config,
    original_config_dict,
)
from core.errors import InvalidConfig

# The published gpt-oss-20b config.json files, as the repos hold them.
HF_20B = hf_config_dict(GPT_OSS_20B)
ORIGINAL_20B = {
    "num_hidden_layers": 24, "num_experts": 32, "experts_per_token": 4, "vocab_size": 201088,
    "hidden_size": 2880, "intermediate_size": 2880, "swiglu_limit": 7.0, "head_dim": 64,
    "num_attention_heads": 64, "num_key_value_heads": 8, "sliding_window": 128,
    "initial_context_length": 4096, "rope_theta": 150000, "rope_scaling_factor": 32.0,
    "rope_ntk_alpha": 1, "rope_ntk_beta": 32,
}


def test_presets_match_the_spec():
    assert (GPT_OSS_20B.num_hidden_layers, GPT_OSS_20B.num_local_experts) == (24, 32)
    assert (GPT_OSS_120B.num_hidden_layers, GPT_OSS_120B.num_local_experts) == (36, 128)
    assert GPT_OSS_20B.layer_types[:3] == ("sliding_attention", "full_attention", "sliding_attention")
    assert GPT_OSS_20B.context_length == 131072
    assert GPT_OSS_20B.rope_attention_factor == pytest.approx(1.3466, abs=1e-4)


def test_both_formats_read_to_the_same_config():
    assert config_from_dict(HF_20B) == GPT_OSS_20B
    assert config_from_dict(ORIGINAL_20B) == GPT_OSS_20B
    assert config_from_dict(original_config_dict(GPT_OSS_120B)) == GPT_OSS_120B


def test_layer_types_in_config_are_trusted():
    raw = dict(HF_20B, layer_types=["full_attention"] * 24)
    assert not any(config_from_dict(raw).is_sliding(i) for i in range(24))


@pytest.mark.parametrize("change, message", [
    ({"flash_attention_mode": "on"}, "unknown keys in config.json: ['flash_attention_mode']"),
    ({"num_hidden_layers": 0}, "'num_hidden_layers' must be a whole number above zero"),
    ({"num_hidden_layers": "24"}, "'num_hidden_layers' must be a whole number above zero"),
    ({"num_experts_per_tok": 64}, "uses 64 experts but the model has only 32"),
    ({"num_key_value_heads": 7}, "cannot be shared evenly"),
    ({"layer_types": ["sliding_attention"] * 3}, "lists 3 layers but the model has 24"),
    ({"layer_types": ["local"] * 24}, "unknown layer type 'local'"),
    ({"model_type": "llama"}, "model_type = 'llama'"),
    ({"tie_word_embeddings": True}, "tie_word_embeddings = True"),
    ({"quantization_config": {"quant_method": "gptq"}}, "storage format Hearth cannot read"),
    ({"rope_scaling": {"rope_type": "linear", "factor": 2}}, "rotary scaling 'linear'"),
    ({"rms_norm_eps": -1}, "'rms_norm_eps' must be a number above zero"),
])
def test_bad_configs_are_refused_with_a_readable_reason(change, message):
    with pytest.raises(InvalidConfig) as refused:
        config_from_dict(dict(HF_20B, **change))
    # The key names are for the details; the sentence names no file.
    assert message in f"{refused.value} {refused.value.details}" and "config.json" not in str(refused.value)


def test_unknown_original_key_is_refused():
    with pytest.raises(InvalidConfig, match="settings Hearth does not know") as refused:
        config_from_dict(dict(ORIGINAL_20B, mystery=1))
    assert "'mystery'" in refused.value.details


def test_unreadable_config_file(tmp_path):
    path = tmp_path / "config.json"
    path.write_text("{ not json")
    with pytest.raises(InvalidConfig, match="damaged"):
        load_config(path)
    path.write_text(json.dumps([1, 2]))
    with pytest.raises(InvalidConfig, match="holds no settings") as refused:
        load_config(path)
    assert refused.value.details == "config.json is not a JSON object"
