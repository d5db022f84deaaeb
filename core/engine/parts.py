"""What a person calls each part of a model's files. An error about a missing or damaged part
names it in these words (`file_part`, `tensor_part`); the file or tensor name itself goes to
the error's `details` (core/errors.py), for a bug report, not for the sentence.

Both read as the subject of a sentence about "the model": "part 2 of 3 of its weights is cut
short", "the output layer is missing".
"""

from __future__ import annotations

import re
from pathlib import Path

from core.errors import HearthError

THE_MODELS = "the model's"  # `whose` for a sentence of its own: "Part 2 of 3 of the model's weights ..."
_SHARD = re.compile(r"model-0*(\d+)-of-0*(\d+)\.safetensors")
_FILES = {
    "config.json": "{w} settings file",
    "model.safetensors": "{w} weights file",
    "model.safetensors.index.json": "the list of {w} weights files",
    "generation_config.json": "{w} settings for writing answers",
    "dtypes.json": "the list of {w} number formats",
}
# The published layers' parts, in both formats' names, most specific first.
_LAYER_PARTS = (
    (("mlp.router", "mlp.gate."), "the router"),
    (("mlp.experts", "mlp.mlp1", "mlp.mlp2"), "the experts"),
    (("sinks",), "the attention"),
    (("self_attn", "attn.qkv", "attn.out"), "the attention"),
    (("layernorm", "norm"), "a normalisation"),
)
_LAYER = re.compile(r"(?:model\.layers|block)\.(\d+)\.(.*)")


def file_part(path: str, whose: str = "its") -> str:
    """"model-00002-of-00003.safetensors" -> "part 2 of 3 of its weights" ("of the model's
    weights" with `whose="the model's"`)."""
    name = str(path).replace("\\", "/").rsplit("/", 1)[-1]
    if match := _SHARD.fullmatch(name):
        words = f"part {int(match[1])} of {int(match[2])} of {{w}} weights"
    elif name in _FILES:
        words = _FILES[name]
    elif name.startswith("tokenizer"):
        words = "{w} vocabulary file"
    elif name.endswith(".safetensors"):
        words = "one of {w} weights files"
    else:
        words = "one of {w} files"
    return words.format(w=whose)


def tensor_part(name: str) -> str:
    """"lm_head.weight" -> "the output layer"; "model.layers.3.mlp.router.bias" -> "the router of layer 4"."""
    if name.startswith(("lm_head", "unembedding")):
        return "the output layer"
    if name.startswith(("model.embed_tokens", "embedding")):
        return "the input layer"
    if name in ("model.norm.weight", "norm.scale"):
        return "the last normalisation"
    if match := _LAYER.fullmatch(name):
        layer, rest = int(match[1]) + 1, match[2]
        part = next((words for keys, words in _LAYER_PARTS if any(k in rest for k in keys)), "a part")
        return f"{part} of layer {layer}"
    return "a part of the weights"


def capital(words: str) -> str:
    """The words with a capital first letter, as a sentence begins (str.capitalize lowers the rest)."""
    return words[:1].upper() + words[1:]


def incomplete(kind: type[HearthError], folder: Path, fault: str, details: str) -> HearthError:
    """A folder whose model is missing parts or has damaged ones: one sentence naming the part in
    plain words (`fault`, "part 2 of 3 of its weights is missing"), the file names in `details`."""
    return kind(f"The folder {folder} does not hold a complete model: {fault}.", fault=fault, details=details)
