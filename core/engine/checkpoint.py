"""Reads a gpt-oss checkpoint folder (either published format) into `Weights`.

Name maps for the Hugging Face root format and OpenAI's `original/` format live here;
both produce the same `Weights`. The MXFP4 expert matrices stay packed (uint8 blocks
and scales, memory-mapped from disk): nothing here decodes or copies them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from core.engine.config import ModelConfig, is_original_format, load_config
from core.engine.parts import file_part, incomplete, tensor_part
from core.engine.safetensors_file import SafetensorsFile
from core.errors import CorruptCheckpoint, FileNotReadable, InvalidConfig, ModelNotFound, why_unreadable
from kernels.moe import ExpertWeights

HF_INDEX = "model.safetensors.index.json"


@dataclass(frozen=True)
class AttentionWeights:
    norm: torch.Tensor     # [D]
    q_weight: torch.Tensor  # [Hq*hd, D]
    q_bias: torch.Tensor
    k_weight: torch.Tensor  # [Hkv*hd, D]
    k_bias: torch.Tensor
    v_weight: torch.Tensor
    v_bias: torch.Tensor
    o_weight: torch.Tensor  # [D, Hq*hd]
    o_bias: torch.Tensor
    sinks: torch.Tensor     # [Hq]


@dataclass(frozen=True)
class MoEWeights:
    norm: torch.Tensor           # [D]
    router_weight: torch.Tensor  # [E, D]
    router_bias: torch.Tensor    # [E]
    experts: ExpertWeights


@dataclass(frozen=True)
class LayerWeights:
    attention: AttentionWeights
    moe: MoEWeights


@dataclass(frozen=True)
class Weights:
    embedding: torch.Tensor  # [V, D]
    layers: tuple[LayerWeights, ...]
    norm: torch.Tensor       # [D]
    lm_head: torch.Tensor    # [V, D]


@dataclass(frozen=True)
class CheckpointFolder:
    """Where a model's config and weights are, and in which format."""

    config_path: Path
    weight_files: tuple[Path, ...]
    format: str  # "hf" or "original"


def locate(path: str | Path) -> CheckpointFolder:
    """Finds the config and weight files of a model folder in either published format."""
    folder = Path(path)
    if not folder.exists():
        if folder.is_symlink():
            raise ModelNotFound(f"The model folder {folder} is a link that leads nowhere (back to itself, or to "
                                "something that was moved or deleted). Choose the folder that holds the model.")
        raise ModelNotFound(f"The model folder {folder} does not exist.")
    if not folder.is_dir():
        raise ModelNotFound(f"{folder} is a file; choose the folder that holds the model.")
    candidates = [folder, folder / "original"]
    for candidate in candidates:
        config_path = candidate / "config.json"
        if not config_path.is_file():
            continue
        weight_files = _weight_files(candidate)
        if weight_files:
            try:
                raw = json.loads(config_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                raw = {}
            fmt = "original" if isinstance(raw, dict) and is_original_format(raw) else "hf"
            return CheckpointFolder(config_path, weight_files, fmt)
    if (folder / "config.json").is_file():
        raise incomplete(ModelNotFound, folder, "its weights are missing", "config.json but no *.safetensors")
    raise incomplete(ModelNotFound, folder, "its settings file is missing", "no config.json, nor original/config.json")


def _weight_files(folder: Path) -> tuple[Path, ...]:
    index = folder / HF_INDEX
    if index.is_file():
        try:
            raw = index.read_bytes()
        except OSError as error:
            raise FileNotReadable(f"The list of the model's weights files {index} cannot be read: "
                                  f"{why_unreadable(error)}.") from None
        try:
            weight_map = json.loads(raw.decode("utf-8"))["weight_map"]
            names = sorted(set(weight_map.values()))
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError):
            raise CorruptCheckpoint("The list of the model's weights files is damaged.",
                                    advice="Download or copy the model again.",
                                    fault=f"{file_part(HF_INDEX)} is damaged",
                                    details=f"{HF_INDEX} is not JSON with a weight_map") from None
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:
            fault = (f"{file_part(missing[0])} is missing" if len(missing) == 1
                     else f"{len(missing)} of the {len(names)} parts of its weights are missing")
            raise incomplete(ModelNotFound, folder, fault, f"missing: {', '.join(missing)}")
        return tuple(folder / n for n in names)
    return tuple(sorted(folder.glob("*.safetensors")))


class TensorSource:
    """All tensors of a checkpoint's files by name, with shape and dtype checks."""

    def __init__(self, files: tuple[Path, ...]):
        self._where: dict[str, SafetensorsFile] = {}
        for path in files:
            shard = SafetensorsFile(path)
            for name in shard.tensors:
                self._where[name] = shard

    def names(self) -> set[str]:
        return set(self._where)

    def get(self, name: str, shape: tuple[int, ...], dtypes: tuple[torch.dtype, ...]) -> torch.Tensor:
        shard = self._where.get(name)
        part = tensor_part(name)
        if shard is None:
            raise CorruptCheckpoint(f"The model's weights are incomplete: they lack {part}. The files may be from a "
                                    "different model or only partly copied.", fault=f"its weights lack {part}",
                                    details=f"the tensor {name} is missing")
        info = shard.tensors[name]
        if info.shape != shape:
            raise CorruptCheckpoint(f"The model's weights do not match its settings file: the size of {part} is not "
                                    "the one the settings describe.",
                                    fault=f"the size of {part} does not match its settings file",
                                    details=f"{name} has shape {list(info.shape)} but the settings need {list(shape)}")
        if info.dtype not in dtypes:
            raise CorruptCheckpoint(f"The number format of {part} is not one Hearth expects in these weights.",
                                    fault=f"the number format of {part} is unexpected",
                                    details=f"{name} is stored as {info.dtype} where {dtypes[0]} is expected")
        return shard.get(name)


_FLOATS = (torch.bfloat16, torch.float16, torch.float32)
_BYTES = (torch.uint8,)


def _hf_names(i: int) -> dict[str, str]:
    p = f"model.layers.{i}."
    return {
        "attn_norm": p + "input_layernorm.weight",
        "q_weight": p + "self_attn.q_proj.weight", "q_bias": p + "self_attn.q_proj.bias",
        "k_weight": p + "self_attn.k_proj.weight", "k_bias": p + "self_attn.k_proj.bias",
        "v_weight": p + "self_attn.v_proj.weight", "v_bias": p + "self_attn.v_proj.bias",
        "o_weight": p + "self_attn.o_proj.weight", "o_bias": p + "self_attn.o_proj.bias",
        "sinks": p + "self_attn.sinks",
        "mlp_norm": p + "post_attention_layernorm.weight",
        "router_weight": p + "mlp.router.weight", "router_bias": p + "mlp.router.bias",
        "gate_up_blocks": p + "mlp.experts.gate_up_proj_blocks",
        "gate_up_scales": p + "mlp.experts.gate_up_proj_scales",
        "gate_up_bias": p + "mlp.experts.gate_up_proj_bias",
        "down_blocks": p + "mlp.experts.down_proj_blocks",
        "down_scales": p + "mlp.experts.down_proj_scales",
        "down_bias": p + "mlp.experts.down_proj_bias",
    }


def _original_names(i: int) -> dict[str, str]:
    p = f"block.{i}."
    return {
        "attn_norm": p + "attn.norm.scale",
        "qkv_weight": p + "attn.qkv.weight", "qkv_bias": p + "attn.qkv.bias",
        "o_weight": p + "attn.out.weight", "o_bias": p + "attn.out.bias",
        "sinks": p + "attn.sinks",
        "mlp_norm": p + "mlp.norm.scale",
        "router_weight": p + "mlp.gate.weight", "router_bias": p + "mlp.gate.bias",
        "gate_up_blocks": p + "mlp.mlp1_weight.blocks", "gate_up_scales": p + "mlp.mlp1_weight.scales",
        "gate_up_bias": p + "mlp.mlp1_bias",
        "down_blocks": p + "mlp.mlp2_weight.blocks", "down_scales": p + "mlp.mlp2_weight.scales",
        "down_bias": p + "mlp.mlp2_bias",
    }


GLOBAL_NAMES = {
    "hf": {"embedding": "model.embed_tokens.weight", "norm": "model.norm.weight", "lm_head": "lm_head.weight"},
    "original": {"embedding": "embedding.weight", "norm": "norm.scale", "lm_head": "unembedding.weight"},
}
LAYER_NAMES = {"hf": _hf_names, "original": _original_names}


def read_checkpoint(path: str | Path) -> tuple[ModelConfig, Weights]:
    """The config and (memory-mapped) weights of the model folder at `path`."""
    where = locate(path)
    config = load_config(where.config_path)
    source = TensorSource(where.weight_files)
    names = GLOBAL_NAMES[where.format]
    c = config
    weights = Weights(
        embedding=source.get(names["embedding"], (c.vocab_size, c.hidden_size), _FLOATS),
        layers=tuple(_read_layer(source, where.format, c, i) for i in range(c.num_hidden_layers)),
        norm=source.get(names["norm"], (c.hidden_size,), _FLOATS),
        lm_head=source.get(names["lm_head"], (c.vocab_size, c.hidden_size), _FLOATS),
    )
    extra = f"model.layers.{c.num_hidden_layers}." if where.format == "hf" else f"block.{c.num_hidden_layers}."
    if any(n.startswith(extra) for n in source.names()):
        raise InvalidConfig(f"The weights hold more layers than the {c.num_hidden_layers} of the model's settings "
                            "file: the settings file does not belong to these weights.",
                            details=f"tensors named {extra}* beyond config.json's num_hidden_layers")
    return config, weights


def _read_layer(source: TensorSource, fmt: str, c: ModelConfig, i: int) -> LayerWeights:
    n = LAYER_NAMES[fmt](i)
    D, E = c.hidden_size, c.num_local_experts

    def get(key: str, shape: tuple[int, ...], dtypes=_FLOATS) -> torch.Tensor:
        return source.get(n[key], shape, dtypes)

    if fmt == "hf":
        q_weight, q_bias = get("q_weight", (c.q_size, D)), get("q_bias", (c.q_size,))
        k_weight, k_bias = get("k_weight", (c.kv_size, D)), get("k_bias", (c.kv_size,))
        v_weight, v_bias = get("v_weight", (c.kv_size, D)), get("v_bias", (c.kv_size,))
    else:
        # original/ fuses q, k, v along the output rows; row slices are zero-copy views.
        qkv_rows = c.q_size + 2 * c.kv_size
        qkv_weight, qkv_bias = get("qkv_weight", (qkv_rows, D)), get("qkv_bias", (qkv_rows,))
        q_weight, k_weight, v_weight = qkv_weight.split([c.q_size, c.kv_size, c.kv_size])
        q_bias, k_bias, v_bias = qkv_bias.split([c.q_size, c.kv_size, c.kv_size])
    attention = AttentionWeights(
        norm=get("attn_norm", (D,)),
        q_weight=q_weight, q_bias=q_bias, k_weight=k_weight, k_bias=k_bias, v_weight=v_weight, v_bias=v_bias,
        o_weight=get("o_weight", (D, c.q_size)), o_bias=get("o_bias", (D,)),
        sinks=get("sinks", (c.num_attention_heads,)),
    )
    I2 = 2 * c.intermediate_size
    experts = ExpertWeights(
        gate_up_blocks=get("gate_up_blocks", (E, I2, D // 32, 16), _BYTES),
        gate_up_scales=get("gate_up_scales", (E, I2, D // 32), _BYTES),
        gate_up_bias=get("gate_up_bias", (E, I2)),
        down_blocks=get("down_blocks", (E, D, c.intermediate_size // 32, 16), _BYTES),
        down_scales=get("down_scales", (E, D, c.intermediate_size // 32), _BYTES),
        down_bias=get("down_bias", (E, D)),
    )
    moe = MoEWeights(
        norm=get("mlp_norm", (D,)),
        router_weight=get("router_weight", (E, D)), router_bias=get("router_bias", (E,)),
        experts=experts,
    )
    return LayerWeights(attention, moe)
