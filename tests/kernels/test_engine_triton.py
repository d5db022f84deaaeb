"""The whole tiny model through the triton backend (CPU tensors, interpreter, float32)
against the torch backend: full forward logits, and a session fed in chunks (KV cache,
sliding-layer ring buffer past its window, decode steps).

Both backends compute the same float32 model; they differ in summation order (fused MXFP4
matmuls, online softmax), which over 4 layers stays below 1e-4 of the logit scale. A
wiring mistake (mask, sink, routing, SwiGLU halves) shows at 1e-2 or more.
"""

from __future__ import annotations

import pytest
import torch

from core import load_model
from core.engine.testing import tiny_config, write_checkpoint
from core.errors import InvalidInput
from kernels.testing import assert_close

CONFIG = tiny_config(num_hidden_layers=4, sliding_window=6)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_checkpoint(tmp_path_factory.mktemp("tiny"), CONFIG, seed=11)


@pytest.fixture(scope="module")
def tokens():
    return torch.randint(0, CONFIG.vocab_size, (23,), generator=torch.Generator().manual_seed(2)).tolist()


def test_full_forward_matches_torch_backend(folder, tokens):
    triton = load_model(folder, dtype=torch.float32, backend="triton").logits(tokens)
    reference = load_model(folder, dtype=torch.float32, backend="torch").logits(tokens)
    assert_close(triton, reference, 1e-4, 1e-5, "logits")


def test_session_with_cache_matches_torch_backend(folder, tokens):
    # 23 tokens as a 13-token prefill and then single decode steps: the sliding layers'
    # 6-slot ring wraps several times.
    sessions = [load_model(folder, dtype=torch.float32, backend=b).new_session() for b in ("triton", "torch")]
    for feed in ([tokens[:13]] + [[t] for t in tokens[13:]]):
        triton, reference = (s.feed(feed) for s in sessions)
        assert_close(triton, reference, 1e-4, 1e-5, f"logits after {sessions[0].position} tokens")


def test_backend_choice(folder, monkeypatch):
    assert load_model(folder, dtype=torch.float32).transformer.ops.moe.func.__name__ == "moe_torch"  # CPU default
    with pytest.raises(InvalidInput, match="bfloat16"):
        load_model(folder, backend="triton")      # the interpreter's bf16 is wrong: refused, not silently wrong
    with pytest.raises(InvalidInput, match="Unknown compute backend"):
        load_model(folder, backend="cuda")
    monkeypatch.delenv("TRITON_INTERPRET")
    with pytest.raises(InvalidInput, match="NVIDIA graphics card"):
        load_model(folder, dtype=torch.float32, backend="triton")
