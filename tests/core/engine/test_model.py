"""The engine against the independent reference, and its own paths against each other."""

from __future__ import annotations

import json

import pytest
import torch

from core import load_model
from core.engine.testing import random_weights, tiny_config, write_checkpoint
from tests.core.engine.reference_model import reference_logits

CONFIG = tiny_config(num_hidden_layers=4, sliding_window=6)
SEED = 3


@pytest.fixture(scope="module")
def tensors():
    return random_weights(CONFIG, SEED)


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory, tensors):
    return write_checkpoint(tmp_path_factory.mktemp("hf"), CONFIG, tensors=tensors, max_shard_bytes=150_000)


@pytest.fixture(scope="module")
def original_folder(tmp_path_factory, tensors):
    return write_checkpoint(tmp_path_factory.mktemp("repo") / "original", CONFIG, tensors=tensors, format="original")


@pytest.fixture(scope="module")
def tokens():
    return torch.randint(0, CONFIG.vocab_size, (21,), generator=torch.Generator().manual_seed(7)).tolist()


@pytest.fixture(scope="module")
def expected(hf_folder, tensors, tokens):
    config = json.loads((hf_folder / "config.json").read_text())
    return reference_logits(tensors, config, tokens)


def relative_error(actual: torch.Tensor, expected: torch.Tensor) -> tuple[float, float]:
    """(max |error| / max |expected|, rms error / rms expected)."""
    diff = (actual - expected).float()
    return (diff.abs().max() / expected.abs().max()).item(), (diff.norm() / expected.norm()).item()


def test_float32_engine_matches_reference(hf_folder, tokens, expected):
    # Same math in float32 on both sides, different order of operations (fused matmuls, chunked
    # softmax): float32 rounding alone stays far below 1e-4 over 4 layers.
    actual = load_model(hf_folder, dtype=torch.float32).logits(tokens)
    max_err, rms_err = relative_error(actual, expected)
    assert max_err < 1e-4 and rms_err < 1e-4


def test_bfloat16_engine_matches_reference(hf_folder, tokens, expected):
    # bfloat16 activations (8-bit mantissa, ~0.4% per rounding) through 4 blocks of matmuls:
    # errors of ~1-2% of the logit scale are rounding, while any wiring mistake (a wrong mask,
    # rope half, interleave or sink) moves logits by O(100%).
    actual = load_model(hf_folder).logits(tokens)
    max_err, rms_err = relative_error(actual, expected)
    assert max_err < 0.05 and rms_err < 0.03
    agree = (actual.argmax(-1) == expected.argmax(-1)).float().mean().item()
    assert agree >= 0.9


def test_both_formats_give_identical_logits(hf_folder, original_folder, tokens):
    hf = load_model(hf_folder).logits(tokens)
    assert torch.equal(hf, load_model(original_folder).logits(tokens))
    assert torch.equal(hf, load_model(original_folder.parent).logits(tokens))  # repo root holding original/


# Tolerances of a token-by-token run against one full forward, by backend and dtype. torch: the
# same kernels on the same values (bf16 bit-identical). cpu: a one-token step runs the compiled
# decode kernels and the 21-token forward torch's GEMMs for attention, so they differ by the
# compiled MoE's int16 activation rounding (~5e-5 relative in float32) and, in bfloat16, by the
# rounding of q, k, v and the cache, which the two paths do in different places.
STEPWISE_TOLERANCE = {("torch", torch.float32): 1e-5, ("torch", torch.bfloat16): 0.0,
                      ("cpu", torch.float32): 2e-4, ("cpu", torch.bfloat16): 0.03}


@pytest.mark.parametrize("backend", ["torch", "cpu"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_feeding_one_token_at_a_time_matches_full_forward(hf_folder, tokens, dtype, backend):
    # 21 tokens with a window of 6: the ring buffer wraps three times.
    model = load_model(hf_folder, dtype=dtype, backend=backend)
    full = model.logits(tokens)
    session = model.new_session()
    stepwise = torch.stack([session.feed([t]) for t in tokens])
    assert relative_error(stepwise, full)[0] <= STEPWISE_TOLERANCE[backend, dtype]


def test_chunked_prefill_matches_full_forward(hf_folder, tokens, monkeypatch):
    model = load_model(hf_folder, dtype=torch.float32, backend="torch")  # exact: tests the cache
    full = model.logits(tokens)
    monkeypatch.setattr("core.engine.model.PREFILL_CHUNK", 4)  # chunks shorter than the window, and a ragged tail
    session = model.new_session()
    last = session.feed(tokens[:17])
    assert relative_error(last, full[16])[0] < 1e-5
    last = session.feed(tokens[17:])
    assert relative_error(last, full[-1])[0] < 1e-5


def test_rewind_to_a_mark_continues_exactly(hf_folder, tokens):
    model = load_model(hf_folder, dtype=torch.float32, backend="torch")  # exact: tests the cache
    full = model.logits(tokens)
    session = model.new_session()
    session.feed(tokens[:9])
    session.mark()
    session.feed(tokens[9:15])
    assert session.rewind(12) == 9  # the latest mark at or before 12
    assert session.tokens == tokens[:9]
    assert relative_error(session.feed(tokens[9:]), full[-1])[0] < 1e-5
    assert session.rewind(3) == 0  # no mark that early: back to the start
    assert relative_error(session.feed(tokens), full[-1])[0] < 1e-5


def test_session_limit_is_enforced(hf_folder):
    from core.errors import ContextOverflow

    session = load_model(hf_folder).new_session(max_tokens=5)
    session.feed([1, 2, 3])
    with pytest.raises(ContextOverflow, match="too long"):
        session.feed([4, 5, 6])
    assert session.position == 3  # the refused tokens left no trace


def test_a_session_keeps_only_its_latest_marks(hf_folder, tokens):
    from core.engine.model import MAX_MARKS

    session = load_model(hf_folder, dtype=torch.float32).new_session()
    for t in tokens[:10]:
        session.feed([t])
        session.mark()
    assert len(session._marks) == MAX_MARKS
    assert session.rewind(8) == 8   # among the latest marks
    assert session.rewind(2) == 0   # that mark was dropped: back to the start


def test_static_cache_matches_the_full_forward(hf_folder, tokens):
    # The GPU layout (preallocated, written at slot = position, attended whole) on the CPU.
    model = load_model(hf_folder, dtype=torch.float32, backend="torch")  # exact: tests the cache
    full = model.logits(tokens)
    session = model.new_session(static_cache=True)
    assert session.cache.static
    first = session.feed(tokens[:5])
    session.mark()
    stepwise = torch.stack([first] + [session.feed([t]) for t in tokens[5:]])
    assert relative_error(stepwise, full[4:])[0] < 1e-5
    assert session.rewind(7) == 5  # the stale slots past the mark are forgotten, not attended
    assert relative_error(session.feed(tokens[5:]), full[-1])[0] < 1e-5


def test_static_cache_decode_step_keeps_shapes_and_never_reads_back():
    # Meta tensors hold no data: any host read (.item(), .tolist(), a data-dependent shape)
    # raises, so passing here means the step can be captured in a CUDA graph.
    from core.engine.kv_cache import KVCache

    config = CONFIG
    cache = KVCache(config, torch.bfloat16, "meta", max_positions=64, static=True)
    shapes = set()
    for _step in range(3):
        k = torch.empty(1, config.num_key_value_heads, config.head_dim, dtype=torch.bfloat16, device="meta")
        positions = torch.empty(1, dtype=torch.int64, device="meta")
        for layer in cache.layers:
            keys, _values, key_positions = layer.update(k, k, positions, cache.limit)
            shapes.add((layer.ring, tuple(keys.shape), tuple(key_positions.shape)))
    assert shapes == {(True, (6, 2, 16), (6,)), (False, (64, 2, 16), (64,))}


def test_load_reports_progress_and_can_be_cancelled(hf_folder, tokens):
    import threading

    from core.errors import Cancelled

    seen = []
    model = load_model(hf_folder, preload=True, progress=seen.append)
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 10
    assert seen[-1].total_bytes == sum(p.stat().st_size for p in hf_folder.glob("*.safetensors")) - sum(
        8 + int.from_bytes(p.read_bytes()[:8], "little") for p in hf_folder.glob("*.safetensors"))
    assert torch.equal(model.logits(tokens), load_model(hf_folder).logits(tokens))  # preloading changes nothing

    cancel = threading.Event()

    def stop_halfway(progress):
        if progress.fraction > 0.5:
            cancel.set()

    with pytest.raises(Cancelled, match="stopped"):
        load_model(hf_folder, progress=stop_halfway, cancel=cancel)


def test_two_sessions_of_one_model_can_run_in_parallel_threads(hf_folder, tokens):
    # The sessions share the backend's buffers and the compiled kernels' thread pool; the model
    # lets one forward run at a time.
    import threading

    model = load_model(hf_folder, dtype=torch.float32, backend="cpu")
    full = model.logits(tokens)
    results = {}

    def run(name):
        session = model.new_session()
        results[name] = torch.stack([session.feed([t]) for t in tokens])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1, 2]  # a thread that raised left no result
    for stepwise in results.values():
        assert torch.equal(stepwise, results[0])  # the kernels are deterministic: no thread saw another's state
        assert relative_error(stepwise, full)[0] <= STEPWISE_TOLERANCE["cpu", torch.float32]
