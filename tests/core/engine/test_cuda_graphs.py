"""core/engine/cuda_graphs.py without a GPU: a whole gpt-oss-20b decode step is fit for CUDA-graph
capture, and the eager step is the session's own decode step.

Capture fails on any host sync, and a replay repeats the captured launches with their grids
and arguments as they were. So the step runs on meta tensors (no data: .item(), .tolist(),
.cpu(), nonzero or a data-dependent shape raise) with the Triton kernels' launches recorded
instead of run, at two positions: the same launches must come out, reading the KV cache's own
buffers, which therefore are written in place and never reallocated. What only a GPU can
show (the capture itself, and replayed logits equal to eager ones) is bench/gpu_check.py's.
"""

from __future__ import annotations

import importlib
import os
import sys
from functools import partial
from types import SimpleNamespace

import pytest
import torch

from core.engine.backends import Ops
from core.engine.config import GPT_OSS_20B
from core.engine.cuda_graphs import DecodeStep, GraphedDecodeStep
from core.engine.kv_cache import KVCache
from core.engine.model import Model, cuda_graphs_wanted
from core.engine.testing import device_weights, random_model, tiny_config
from core.engine.transformer import Transformer
from kernels.moe import SWIGLU_ALPHA
from kernels.target import Recorder

META = torch.device("meta")


def private_kernels():
    """The Triton modules, imported as tests/kernels/conftest.py imports them (interpreted), so
    either order of test folders works; recorded launches never run, interpreted or not."""
    names = ("kernels._attention_triton", "kernels._moe_triton")
    if all(name in sys.modules for name in names):
        return [sys.modules[name] for name in names]
    before = os.environ.get("TRITON_INTERPRET")
    os.environ["TRITON_INTERPRET"] = "1"
    try:
        return [importlib.import_module(name) for name in names]
    finally:
        if before is None:
            del os.environ["TRITON_INTERPRET"]
        else:
            os.environ["TRITON_INTERPRET"] = before


def recording_ops(recorder: Recorder) -> Ops:
    attention, moe = private_kernels()

    def moe_op(x, router_weight, router_bias, experts, top_k, swiglu_limit):
        return moe.moe(x, router_weight, router_bias, experts, top_k, swiglu_limit, SWIGLU_ALPHA, launch=recorder)

    return Ops(attention=partial(attention.attention, launch=recorder), moe=moe_op, graph_safe=True)


def test_a_20b_decode_step_is_capture_safe_on_meta_tensors():
    recorder = Recorder()
    config = GPT_OSS_20B
    transformer = Transformer(config, device_weights(config, META), recording_ops(recorder), torch.bfloat16, META)
    cache = KVCache(config, torch.bfloat16, META, max_positions=8192, static=True)
    buffers = [(layer.k, layer.v, layer.positions) for layer in cache.layers]
    step = DecodeStep(transformer, cache)
    steps = []
    for position in (300, 7000):
        recorder.launches.clear()
        logits = step(torch.empty(1, dtype=torch.int64, device=META), position)
        assert logits.shape == (config.vocab_size,) and logits.dtype == torch.float32
        steps.append(list(recorder.launches))
    first, second = steps
    # Per layer: router, gate_up, down; attention, plus the combine of a split full layer.
    assert 5 * 24 > len(first) >= 4 * 24
    for a, b in zip(first, second, strict=True):
        assert a.kernel is b.kernel and a.grid == b.grid and a.constexprs == b.constexprs
        assert [x for x in a.args if not isinstance(x, torch.Tensor)] == \
            [x for x in b.args if not isinstance(x, torch.Tensor)]
        assert [(x.shape, x.dtype) for x in a.args if isinstance(x, torch.Tensor)] == \
            [(x.shape, x.dtype) for x in b.args if isinstance(x, torch.Tensor)]
    # Attention reads the cache's own full-size buffers: written in place, never reallocated.
    attended = [launch for launch in first if launch.kernel.fn.__name__ == "_attention_kernel"]
    assert len(attended) == config.num_hidden_layers
    for launch, (k, v, positions), layer in zip(attended, buffers, cache.layers, strict=True):
        assert launch.args[1] is k is layer.k and launch.args[2] is v is layer.v
        assert launch.args[5] is positions is layer.positions


def test_the_eager_step_writes_the_cache_in_place_and_is_the_sessions_step():
    model = random_model(tiny_config(num_hidden_layers=2, sliding_window=4), "cpu", torch.float32, "torch", seed=1)
    plain, stepped = model.new_session(32, static_cache=True), model.new_session(32, static_cache=True)
    prompt = [3, 1, 4, 1, 5, 9]
    plain.feed(prompt)
    stepped.feed(prompt)
    addresses = [(c.k.data_ptr(), c.v.data_ptr(), c.positions.data_ptr()) for c in stepped.cache.layers]
    for token in (2, 6, 5, 3):
        expected = plain.feed([token])
        position = stepped.cache.position
        logits = stepped.step_on_device(torch.tensor([token]))
        stepped.confirm(token)
        assert torch.equal(logits, expected)
        assert [(c.k.data_ptr(), c.v.data_ptr(), c.positions.data_ptr()) for c in stepped.cache.layers] == addresses
        for layer in stepped.cache.layers:
            assert position in layer.positions.tolist()


def test_graphs_only_where_they_can_run():
    config = tiny_config(num_hidden_layers=1)
    model = random_model(config, "cpu", torch.float32, "torch", cuda_graphs=True)
    assert model.cuda_graphs is False and model.new_session().cuda_graphs is False
    with pytest.raises(ValueError, match="CUDA"):
        GraphedDecodeStep(model.transformer, KVCache(config, torch.float32, "cpu", 16, static=True))
    cuda = SimpleNamespace(device=torch.device("cuda"), ops=Ops(attention=None, moe=None, graph_safe=True))
    torch_ops_on_cuda = SimpleNamespace(device=torch.device("cuda"), ops=Ops(attention=None, moe=None))
    assert Model(cuda, None, cuda_graphs=True).cuda_graphs is True
    assert Model(torch_ops_on_cuda, None, cuda_graphs=True).cuda_graphs is False
    assert Model(cuda, None).cuda_graphs is False  # off unless asked


@pytest.mark.parametrize(("asked", "variable", "wanted"), [
    (None, None, False), (None, "1", True), (None, "0", False), (None, "yes", False), (False, "1", False),
    (True, None, True)])
def test_the_switch_is_off_by_default(monkeypatch, asked, variable, wanted):
    if variable is None:
        monkeypatch.delenv("HEARTH_CUDA_GRAPHS", raising=False)
    else:
        monkeypatch.setenv("HEARTH_CUDA_GRAPHS", variable)
    assert cuda_graphs_wanted(asked) is wanted
