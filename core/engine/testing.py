"""Test support: writes random gpt-oss checkpoints in exactly the published layout, for the
tests, the benchmarks and `hearth --self-test`.

Same tensor names, shapes and dtypes as the released repos, MXFP4 experts as uint8 blocks
and scales, sharded safetensors with their index, and config.json with its
quantization_config; either the Hugging Face root format or OpenAI's `original/` format,
from the same random weights for a given seed, at any size up to the real 20b/120b shapes.
`device_weights` makes the same kind of weights as `Weights` directly on a device, with no
file (the whole 120b on a GPU in seconds, for bench/gpu_check.py; on "meta", shapes only).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import torch

from core.engine.checkpoint import AttentionWeights, LayerWeights, MoEWeights, Weights
from core.engine.config import ModelConfig, hf_config_dict, original_config_dict
from kernels.moe import ExpertWeights

TINY = dict(
    num_hidden_layers=2, num_local_experts=8, num_experts_per_tok=4, vocab_size=512, hidden_size=64,
    intermediate_size=64, head_dim=16, num_attention_heads=8, num_key_value_heads=2, sliding_window=8,
    rope_original_max_position_embeddings=64, max_position_embeddings=2048,
)


def tiny_config(**overrides) -> ModelConfig:
    """A gpt-oss config small enough to run in milliseconds; overrides change any field."""
    values = {**TINY, **overrides}
    return ModelConfig(**values)


def random_weights(config: ModelConfig, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights in the Hugging Face root naming, scaled so activations stay O(1)."""
    return dict(iter_random_weights(config, seed))


def iter_random_weights(config: ModelConfig, seed: int = 0) -> Iterator[tuple[str, torch.Tensor]]:
    """`random_weights` one layer at a time, so the whole 20b (12.8 GiB) can be written on a
    machine with less than twice that in memory."""
    g = torch.Generator().manual_seed(seed)
    c = config
    D, E, I2 = c.hidden_size, c.num_local_experts, 2 * c.intermediate_size

    def dense(*shape, fan_in=None):
        std = 1.0 / math.sqrt(fan_in) if fan_in else 1.0
        return (torch.randn(*shape, generator=g) * std).to(torch.bfloat16)

    def small(*shape):
        return (torch.randn(*shape, generator=g) * 0.02).to(torch.bfloat16)

    def norm(*shape):
        return (1.0 + 0.1 * torch.randn(*shape, generator=g)).to(torch.bfloat16)

    yield from {"model.embed_tokens.weight": dense(c.vocab_size, D), "model.norm.weight": norm(D),
                "lm_head.weight": dense(c.vocab_size, D, fan_in=D)}.items()
    for i in range(c.num_hidden_layers):
        p = f"model.layers.{i}."
        tensors = {
            p + "input_layernorm.weight": norm(D),
            p + "self_attn.q_proj.weight": dense(c.q_size, D, fan_in=D), p + "self_attn.q_proj.bias": small(c.q_size),
            p + "self_attn.k_proj.weight": dense(c.kv_size, D, fan_in=D), p + "self_attn.k_proj.bias": small(c.kv_size),
            p + "self_attn.v_proj.weight": dense(c.kv_size, D, fan_in=D), p + "self_attn.v_proj.bias": small(c.kv_size),
            p + "self_attn.o_proj.weight": dense(D, c.q_size, fan_in=c.q_size), p + "self_attn.o_proj.bias": small(D),
            p + "self_attn.sinks": dense(c.num_attention_heads),
            p + "post_attention_layernorm.weight": norm(D),
            p + "mlp.router.weight": dense(E, D, fan_in=D), p + "mlp.router.bias": small(E),
        }
        gate_up_blocks, gate_up_scales = random_mxfp4((E, I2, D), g)
        down_blocks, down_scales = random_mxfp4((E, D, c.intermediate_size), g)
        tensors |= {
            p + "mlp.experts.gate_up_proj_blocks": gate_up_blocks,
            p + "mlp.experts.gate_up_proj_scales": gate_up_scales,
            p + "mlp.experts.gate_up_proj_bias": small(E, I2),
            p + "mlp.experts.down_proj_blocks": down_blocks, p + "mlp.experts.down_proj_scales": down_scales,
            p + "mlp.experts.down_proj_bias": small(E, D),
        }
        yield from tensors.items()


def random_mxfp4(shape: tuple[int, ...], generator: torch.Generator | None,
                 device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Random MXFP4 matrices [..., rows, cols] as (blocks [..., rows, cols/32, 16], scales [..., rows, cols/32]),
    scaled so each output has unit variance for unit-variance inputs; on the generator's device
    unless `device` is given."""
    *lead, cols = shape
    groups = cols // 32
    device = device if device is not None else generator.device
    blocks = torch.randint(0, 256, (*lead, groups, 16), generator=generator, dtype=torch.uint8, device=device)
    # e2m1 codes drawn uniformly have rms ~2.9; pick the power of two that brings rows to 1/sqrt(cols).
    center = round(127 - math.log2(2.9 * math.sqrt(cols)))
    scales = torch.randint(center - 1, center + 2, (*lead, groups), generator=generator, device=device).to(torch.uint8)
    return blocks, scales


def device_weights(config: ModelConfig, device, dtype: torch.dtype = torch.bfloat16, seed: int = 0) -> Weights:
    """Random `Weights` made on `device` (experts packed MXFP4, the rest in `dtype`), with the
    scales of `iter_random_weights`; not the same numbers as a written checkpoint of that seed."""
    device = torch.device(device)
    g = torch.Generator(device).manual_seed(seed) if device.type != "meta" else None
    c = config
    D, E, I = c.hidden_size, c.num_local_experts, c.intermediate_size

    def randn(*shape, std=1.0, mean=0.0):
        return (torch.randn(*shape, generator=g, device=device) * std + mean).to(dtype)

    def layer() -> LayerWeights:
        gate_up_blocks, gate_up_scales = random_mxfp4((E, 2 * I, D), g, device)
        down_blocks, down_scales = random_mxfp4((E, D, I), g, device)
        attention = AttentionWeights(
            norm=randn(D, std=0.1, mean=1.0),
            q_weight=randn(c.q_size, D, std=D ** -0.5), q_bias=randn(c.q_size, std=0.02),
            k_weight=randn(c.kv_size, D, std=D ** -0.5), k_bias=randn(c.kv_size, std=0.02),
            v_weight=randn(c.kv_size, D, std=D ** -0.5), v_bias=randn(c.kv_size, std=0.02),
            o_weight=randn(D, c.q_size, std=c.q_size ** -0.5), o_bias=randn(D, std=0.02),
            sinks=randn(c.num_attention_heads))
        experts = ExpertWeights(gate_up_blocks, gate_up_scales, randn(E, 2 * I, std=0.02),
                                down_blocks, down_scales, randn(E, D, std=0.02))
        moe = MoEWeights(norm=randn(D, std=0.1, mean=1.0), router_weight=randn(E, D, std=D ** -0.5),
                         router_bias=randn(E, std=0.02), experts=experts)
        return LayerWeights(attention, moe)

    return Weights(embedding=randn(c.vocab_size, D), layers=tuple(layer() for _ in range(c.num_hidden_layers)),
                   norm=randn(D, std=0.1, mean=1.0), lm_head=randn(c.vocab_size, D, std=D ** -0.5))


def to_original_names(tensors: dict[str, torch.Tensor], config: ModelConfig) -> dict[str, torch.Tensor]:
    """The same weights in OpenAI's original/ naming (q, k, v fused into qkv)."""
    out = {"embedding.weight": tensors["model.embed_tokens.weight"], "norm.scale": tensors["model.norm.weight"],
           "unembedding.weight": tensors["lm_head.weight"]}
    for i in range(config.num_hidden_layers):
        p, o = f"model.layers.{i}.", f"block.{i}."
        attn = p + "self_attn."
        out |= {
            o + "attn.norm.scale": tensors[p + "input_layernorm.weight"],
            o + "attn.qkv.weight": torch.cat([tensors[attn + f"{x}_proj.weight"] for x in "qkv"]),
            o + "attn.qkv.bias": torch.cat([tensors[attn + f"{x}_proj.bias"] for x in "qkv"]),
            o + "attn.out.weight": tensors[attn + "o_proj.weight"], o + "attn.out.bias": tensors[attn + "o_proj.bias"],
            o + "attn.sinks": tensors[attn + "sinks"],
            o + "mlp.norm.scale": tensors[p + "post_attention_layernorm.weight"],
            o + "mlp.gate.weight": tensors[p + "mlp.router.weight"],
            o + "mlp.gate.bias": tensors[p + "mlp.router.bias"],
            o + "mlp.mlp1_weight.blocks": tensors[p + "mlp.experts.gate_up_proj_blocks"],
            o + "mlp.mlp1_weight.scales": tensors[p + "mlp.experts.gate_up_proj_scales"],
            o + "mlp.mlp1_bias": tensors[p + "mlp.experts.gate_up_proj_bias"],
            o + "mlp.mlp2_weight.blocks": tensors[p + "mlp.experts.down_proj_blocks"],
            o + "mlp.mlp2_weight.scales": tensors[p + "mlp.experts.down_proj_scales"],
            o + "mlp.mlp2_bias": tensors[p + "mlp.experts.down_proj_bias"],
        }
    return out


def write_checkpoint(folder: str | Path, config: ModelConfig | None = None, seed: int = 0, format: str = "hf",
                     max_shard_bytes: int = 2 * 2**30, tensors: dict[str, torch.Tensor] | None = None) -> Path:
    """Writes a random checkpoint into `folder` and returns it.

    format "hf": config.json, generation_config.json, model-0000N-of-0000M.safetensors and
    model.safetensors.index.json, as the repo root. format "original": config.json and
    model.safetensors, as the repo's original/ folder.
    """
    from safetensors.torch import save_file  # here only: device_weights needs no file and no safetensors

    config = config or tiny_config()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if format == "original":
        tensors = tensors if tensors is not None else random_weights(config, seed)
        (folder / "config.json").write_text(json.dumps(original_config_dict(config), indent=2))
        save_file(to_original_names(tensors, config), folder / "model.safetensors")
        return folder
    if format != "hf":
        raise ValueError(f"unknown checkpoint format {format!r}")
    (folder / "config.json").write_text(json.dumps(hf_config_dict(config), indent=2))
    (folder / "generation_config.json").write_text(json.dumps(
        {"bos_token_id": 199998, "do_sample": True, "eos_token_id": [200002, 199999, 200012],
         "pad_token_id": 199999, "transformers_version": "4.55.0.dev0"}, indent=2))
    # Shards are written as they fill, under temporary names: their count is known only at the end.
    items = tensors.items() if tensors is not None else iter_random_weights(config, seed)
    written: list[tuple[Path, list[str]]] = []
    total = 0
    for shard in _shard(items, max_shard_bytes):
        part = folder / f"part-{len(written) + 1}.tmp"
        save_file(shard, part, metadata={"format": "pt"})
        written.append((part, list(shard)))
        total += sum(t.nbytes for t in shard.values())
    weight_map = {}
    for n, (part, names) in enumerate(written, start=1):
        name = f"model-{n:05d}-of-{len(written):05d}.safetensors"
        part.rename(folder / name)
        weight_map |= dict.fromkeys(names, name)
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))
    return folder


def _shard(items: Iterable[tuple[str, torch.Tensor]], max_bytes: int) -> Iterator[dict[str, torch.Tensor]]:
    shard: dict[str, torch.Tensor] = {}
    size = 0
    for name, tensor in items:
        if shard and size + tensor.nbytes > max_bytes:
            yield shard
            shard, size = {}, 0
        shard[name] = tensor.contiguous()
        size += tensor.nbytes
    yield shard


def random_model(config: ModelConfig, device="cpu", dtype: torch.dtype = torch.bfloat16, backend: str | None = None,
                 seed: int = 0, cuda_graphs: bool = False):
    """A `Model` on `device_weights`, with no file: what load_model would make of such a checkpoint."""
    from core.engine.backends import default_backend, make_ops
    from core.engine.model import Model
    from core.engine.transformer import Transformer

    weights = device_weights(config, device, dtype, seed)
    ops = make_ops(backend or default_backend(torch.device(device)), weights.layers[0].moe.experts, dtype, device)
    return Model(Transformer(config, weights, ops, dtype, device), Path(f"random-seed-{seed}"),
                 cuda_graphs=cuda_graphs)
