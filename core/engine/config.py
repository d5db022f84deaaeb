"""ModelConfig: the shape of a gpt-oss model, read from either published config.json.

Two formats exist for the same weights: the Hugging Face root format
(`config.json` beside `model-*.safetensors`) and OpenAI's `original/` format.
Both become one `ModelConfig`; presets hold the published 20b and 120b values.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import FileNotReadable, InvalidConfig, why_unreadable

SLIDING = "sliding_attention"
FULL = "full_attention"


@dataclass(frozen=True)
class ModelConfig:
    num_hidden_layers: int = 24
    num_local_experts: int = 32
    num_experts_per_tok: int = 4
    vocab_size: int = 201088
    hidden_size: int = 2880
    intermediate_size: int = 2880
    head_dim: int = 64
    num_attention_heads: int = 64
    num_key_value_heads: int = 8
    sliding_window: int = 128
    rms_norm_eps: float = 1e-5
    rope_theta: float = 150000.0
    rope_scaling_factor: float = 32.0
    rope_original_max_position_embeddings: int = 4096
    rope_beta_fast: float = 32.0
    rope_beta_slow: float = 1.0
    max_position_embeddings: int = 131072
    swiglu_limit: float = 7.0
    layer_types: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.layer_types:
            alternating = tuple(SLIDING if i % 2 == 0 else FULL for i in range(self.num_hidden_layers))
            object.__setattr__(self, "layer_types", alternating)
        else:
            object.__setattr__(self, "layer_types", tuple(self.layer_types))
        self._validate()

    def _validate(self) -> None:
        def fail(why: str) -> None:
            raise InvalidConfig("The model's settings file describes a model Hearth cannot run.",
                                details=f"config.json is not valid: {why}")

        positive = [
            "num_hidden_layers", "num_local_experts", "num_experts_per_tok", "vocab_size", "hidden_size",
            "intermediate_size", "head_dim", "num_attention_heads", "num_key_value_heads",
            "sliding_window", "max_position_embeddings", "rope_original_max_position_embeddings",
        ]
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                fail(f"'{name}' must be a whole number above zero, not {value!r}")
        for name in ["rms_norm_eps", "rope_theta", "rope_scaling_factor", "swiglu_limit",
                     "rope_beta_fast", "rope_beta_slow"]:
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not value > 0:
                fail(f"'{name}' must be a number above zero, not {value!r}")
        if self.num_experts_per_tok > self.num_local_experts:
            fail(f"each token uses {self.num_experts_per_tok} experts but the model has only "
                 f"{self.num_local_experts}")
        if self.num_attention_heads % self.num_key_value_heads:
            fail(f"{self.num_attention_heads} attention heads cannot be shared evenly by "
                 f"{self.num_key_value_heads} key/value heads")
        if self.head_dim % 2:
            fail(f"head_dim must be even for rotary embeddings, not {self.head_dim}")
        if self.hidden_size % 32 or self.intermediate_size % 32:
            fail("hidden_size and intermediate_size must be multiples of 32 (the MXFP4 block size)")
        if len(self.layer_types) != self.num_hidden_layers:
            fail(f"'layer_types' lists {len(self.layer_types)} layers but the model has "
                 f"{self.num_hidden_layers}")
        unknown = sorted(set(self.layer_types) - {SLIDING, FULL})
        if unknown:
            fail(f"unknown layer type {unknown[0]!r} (expected '{SLIDING}' or '{FULL}')")

    # Derived shapes, named as the checkpoint names them.
    @property
    def q_size(self) -> int:
        return self.num_attention_heads * self.head_dim

    @property
    def kv_size(self) -> int:
        return self.num_key_value_heads * self.head_dim

    @property
    def context_length(self) -> int:
        return self.max_position_embeddings

    def is_sliding(self, layer: int) -> bool:
        return self.layer_types[layer] == SLIDING

    @property
    def rope_attention_factor(self) -> float:
        """YaRN's scale on cos/sin ("concentration"): 0.1 ln(factor) + 1."""
        return 0.1 * math.log(self.rope_scaling_factor) + 1.0 if self.rope_scaling_factor > 1 else 1.0

    def replace(self, **changes) -> ModelConfig:
        if "num_hidden_layers" in changes and "layer_types" not in changes:
            changes["layer_types"] = ()
        return dataclasses.replace(self, **changes)


GPT_OSS_20B = ModelConfig()
GPT_OSS_120B = ModelConfig(num_hidden_layers=36, num_local_experts=128)
PRESETS = {"gpt-oss-20b": GPT_OSS_20B, "gpt-oss-120b": GPT_OSS_120B}

# Keys of a Hugging Face config.json that carry no information the forward pass needs.
_HF_BOOKKEEPING = {
    "architectures", "model_type", "transformers_version", "torch_dtype", "dtype", "use_cache",
    "attention_dropout", "initializer_range", "output_router_logits", "router_aux_loss_coef",
    "eos_token_id", "pad_token_id", "bos_token_id", "initial_context_length", "experts_per_token",
    "quantization_config", "tie_word_embeddings", "attention_bias", "hidden_act", "rope_scaling",
    "rope_parameters", "torchscript", "return_dict", "output_hidden_states", "output_attentions",
    "chunk_size_feed_forward", "is_encoder_decoder", "tokenizer_class", "id2label", "label2id",
    "problem_type", "num_labels",
}
# The fields the weights' shapes (and the attention pattern) follow: two configs alike in these
# describe the same published model (core/engine/catalogue.py's identity test).
SHAPE_FIELDS = ("num_hidden_layers", "num_local_experts", "num_experts_per_tok", "vocab_size", "hidden_size",
                "intermediate_size", "head_dim", "num_attention_heads", "num_key_value_heads", "sliding_window")
_HF_MODEL_KEYS = {*SHAPE_FIELDS, "rms_norm_eps", "rope_theta", "max_position_embeddings", "swiglu_limit",
                  "layer_types"}
# OpenAI's original/config.json: its key -> our field.
_ORIGINAL_KEYS = {
    "num_hidden_layers": "num_hidden_layers", "num_experts": "num_local_experts",
    "experts_per_token": "num_experts_per_tok", "vocab_size": "vocab_size", "hidden_size": "hidden_size",
    "intermediate_size": "intermediate_size", "swiglu_limit": "swiglu_limit", "head_dim": "head_dim",
    "num_attention_heads": "num_attention_heads", "num_key_value_heads": "num_key_value_heads",
    "sliding_window": "sliding_window", "initial_context_length": "rope_original_max_position_embeddings",
    "rope_theta": "rope_theta", "rope_scaling_factor": "rope_scaling_factor",
    "rope_ntk_alpha": "rope_beta_slow", "rope_ntk_beta": "rope_beta_fast",
}


def is_original_format(raw: dict) -> bool:
    return "num_experts" in raw and "num_local_experts" not in raw


def config_from_dict(raw: dict) -> ModelConfig:
    if not isinstance(raw, dict):
        raise InvalidConfig("The model's settings file is damaged: it holds no settings.",
                            details="config.json is not a JSON object")
    return _from_original(raw) if is_original_format(raw) else _from_hf(raw)


def load_config(path: str | Path) -> ModelConfig:
    """Reads a config.json file (either format)."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidConfig("The model folder has no settings file.", details=f"{path} is missing") from None
    except OSError as error:
        raise FileNotReadable(f"The model's settings file {path} cannot be read: {why_unreadable(error)}.") \
            from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidConfig("The model's settings file is damaged and cannot be read.",
                            details=f"{path}: {error}") from None
    return config_from_dict(raw)


def _reject_unknown(raw: dict, known: set[str]) -> None:
    unknown = sorted(k for k in raw if k not in known and not k.startswith("_"))
    if unknown:
        raise InvalidConfig(
            "The model's settings file holds settings Hearth does not know: this is probably not a gpt-oss "
            "model, or a newer variant Hearth cannot run yet.", details=f"unknown keys in config.json: {unknown}"
        )


def _from_hf(raw: dict) -> ModelConfig:
    _reject_unknown(raw, _HF_MODEL_KEYS | _HF_BOOKKEEPING)
    _expect(raw, "model_type", {"gpt_oss"})
    _expect(raw, "hidden_act", {"silu"})
    _expect(raw, "tie_word_embeddings", {False})
    _expect(raw, "attention_bias", {True})
    quant = raw.get("quantization_config")
    if quant is not None and (not isinstance(quant, dict) or quant.get("quant_method") != "mxfp4"):
        raise InvalidConfig("The model's weights use a storage format Hearth cannot read "
                            f"(quantization {quant!r}); Hearth reads the published MXFP4 checkpoints.")
    values = {k: raw[k] for k in _HF_MODEL_KEYS if k in raw}
    if "layer_types" in values:
        values["layer_types"] = tuple(values["layer_types"])
    values.update(_hf_rope(raw.get("rope_scaling") or raw.get("rope_parameters")))
    return _build(values)


def _hf_rope(rope: dict | None) -> dict:
    if rope is None:
        return {"rope_scaling_factor": 1.0}
    if not isinstance(rope, dict):
        raise InvalidConfig(f"The model's settings have an unreadable 'rope_scaling': {rope!r}.")
    kind = rope.get("rope_type", rope.get("type"))
    if kind != "yarn":
        raise InvalidConfig(f"The model uses rotary scaling {kind!r}; gpt-oss uses 'yarn'.")
    if rope.get("truncate", False):
        raise InvalidConfig("The model's settings ask for truncated YaRN bounds, which gpt-oss does not use.")
    out = {}
    for key, name in [("factor", "rope_scaling_factor"), ("beta_fast", "rope_beta_fast"),
                      ("beta_slow", "rope_beta_slow"),
                      ("original_max_position_embeddings", "rope_original_max_position_embeddings"),
                      ("rope_theta", "rope_theta")]:
        if key in rope:
            out[name] = rope[key]
    return out


def _from_original(raw: dict) -> ModelConfig:
    _reject_unknown(raw, set(_ORIGINAL_KEYS))
    values = {_ORIGINAL_KEYS[k]: v for k, v in raw.items() if k in _ORIGINAL_KEYS}
    factor = values.get("rope_scaling_factor", GPT_OSS_20B.rope_scaling_factor)
    original = values.get("rope_original_max_position_embeddings",
                          GPT_OSS_20B.rope_original_max_position_embeddings)
    if isinstance(factor, int | float) and isinstance(original, int):
        values["max_position_embeddings"] = int(original * factor)
    return _build(values)


def _expect(raw: dict, key: str, allowed: set) -> None:
    if key in raw and raw[key] not in allowed:
        raise InvalidConfig(f"The model's settings say {key} = {raw[key]!r}; a gpt-oss model has "
                            f"{next(iter(allowed))!r}. This model cannot be run by Hearth.")


def _build(values: dict) -> ModelConfig:
    for name in ("rope_theta", "rope_scaling_factor", "rope_beta_fast", "rope_beta_slow",
                 "rms_norm_eps", "swiglu_limit"):
        if isinstance(values.get(name), int) and not isinstance(values[name], bool):
            values[name] = float(values[name])
    try:
        return ModelConfig(**values)
    except TypeError as error:
        raise InvalidConfig("The model's settings file describes a model Hearth cannot run.",
                            details=f"config.json is not valid: {error}") from None


def hf_config_dict(config: ModelConfig) -> dict:
    """The Hugging Face config.json content for `config`, as the published repos write it."""
    return {
        "architectures": ["GptOssForCausalLM"],
        "attention_bias": True,
        "attention_dropout": 0.0,
        "eos_token_id": 200002,
        "experts_per_token": config.num_experts_per_tok,
        "head_dim": config.head_dim,
        "hidden_act": "silu",
        "hidden_size": config.hidden_size,
        "initial_context_length": config.rope_original_max_position_embeddings,
        "initializer_range": 0.02,
        "intermediate_size": config.intermediate_size,
        "layer_types": list(config.layer_types),
        "max_position_embeddings": config.max_position_embeddings,
        "model_type": "gpt_oss",
        "num_attention_heads": config.num_attention_heads,
        "num_experts_per_tok": config.num_experts_per_tok,
        "num_hidden_layers": config.num_hidden_layers,
        "num_key_value_heads": config.num_key_value_heads,
        "num_local_experts": config.num_local_experts,
        "output_router_logits": False,
        "pad_token_id": 199999,
        "quantization_config": {
            "modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router",
                                       "model.embed_tokens", "lm_head"],
            "quant_method": "mxfp4",
        },
        "rms_norm_eps": config.rms_norm_eps,
        "rope_scaling": {
            "beta_fast": config.rope_beta_fast,
            "beta_slow": config.rope_beta_slow,
            "factor": config.rope_scaling_factor,
            "original_max_position_embeddings": config.rope_original_max_position_embeddings,
            "rope_type": "yarn",
            "truncate": False,
        },
        "rope_theta": config.rope_theta,
        "router_aux_loss_coef": 0.9,
        "sliding_window": config.sliding_window,
        "swiglu_limit": config.swiglu_limit,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.55.0.dev0",
        "use_cache": True,
        "vocab_size": config.vocab_size,
    }


def original_config_dict(config: ModelConfig) -> dict:
    """OpenAI's original/config.json content for `config`."""
    inverse = {field_name: key for key, field_name in _ORIGINAL_KEYS.items()}
    return {inverse[name]: getattr(config, name) for name in inverse}
