"""bench/gpu_check.py's model stages: the tiny model through both backends and both decode
paths, the device's bandwidth, and the whole gpt-oss-20b / -120b shapes on random weights
made on the GPU (core.engine.testing.random_model: no file, no disk).

Decode speed is measured at a context filled with random keys and values (`fill_context`):
attention then reads exactly what it would after a real prefill of that length, without
spending minutes prefilling 32k tokens. Three decode paths: "feed" (Session.feed and its
CPU logits, what core/chat/generate.py runs today, a host sync per token), "device"
(core/engine/device_loop.py with eager steps) and "graphs" (the same, steps replayed from a
CUDA graph: what HEARTH_CUDA_GRAPHS=1 turns on).
"""

from __future__ import annotations

import gc
import threading
import time
import warnings

import torch
from bench_kernels import decode_token_bytes

from core.engine.config import GPT_OSS_20B, GPT_OSS_120B
from core.engine.device_loop import decode_on_device
from core.engine.memory_plan import kv_cache_bytes, largest_context, plan_memory, weights_bytes, workspace_bytes
from core.engine.model import Model
from core.engine.sampling import DeviceSampler, Sampler, SamplingParams
from core.engine.testing import random_model, tiny_config
from core.engine.token_loop import decode
from kernels.target import peak_bandwidth
from kernels.testing import errors

GiB, GB = 2**30, 1e9
DEVICE = "cuda"  # tests/bench/test_gpu_check.py rehearses these stages on the processor
GREEDY = SamplingParams(temperature=0.0)
SEEDED = SamplingParams(temperature=1.0, top_p=0.95, seed=11)
CONFIGS = {"gpt-oss-20b": GPT_OSS_20B, "gpt-oss-120b": GPT_OSS_120B}
CONTEXTS = (1024, 8192, 32768)
PREFILLS = (1024, 8192)
STEPS = 32
LOOP_TOKENS = 40  # tokens per loop in the tiny model's comparisons
SYNC_STEPS = 24   # decode steps watched for host syncs
WARM_PROMPT = 300  # tokens of the prefill that compiles a model's kernels before anything is timed
TINY = tiny_config(num_hidden_layers=4, sliding_window=6)
TINY_DTYPES = ((torch.float32, (1e-4, 1e-5)), (torch.bfloat16, (5e-2, 2e-2)))  # and (max, rms) bounds
MODEL_DTYPE = torch.bfloat16
BANDWIDTH_STAGE = "device bandwidth"


def graphed(model: Model) -> Model:
    """The same weights, with CUDA graphs switched on."""
    return Model(model.transformer, model.path, cuda_graphs=True)


def run_loop(loop) -> tuple[list[int], str]:
    tokens = []
    try:
        while True:
            tokens.append(next(loop))
    except StopIteration as end:
        return tokens, end.value


def loop_tokens(model: Model, prompt: list[int], params: SamplingParams, on_device: bool):
    new = LOOP_TOKENS
    session = model.new_session(len(prompt) + new + 8)
    if on_device:
        logits = session.feed_on_device(prompt)
        loop = decode_on_device(session, logits, DeviceSampler(params, model.device), stop=(), max_new_tokens=new,
                                cancel=threading.Event())
    else:
        loop = decode(session, session.feed(prompt), Sampler(params), stop=(), max_new_tokens=new,
                      cancel=threading.Event())
    tokens, _ = run_loop(loop)
    return tokens, session


def first_difference(a: list[int], b: list[int]) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
    return "identical" if at is None and len(a) == len(b) else f"first difference at token {at}"


def syncs_during(fn) -> int:
    """Host syncs torch reports (cuda sync debug mode) while `fn` runs."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            fn()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)


# --- tiny model --------------------------------------------------------------------------------

def tiny_model(stage, triton_ok: bool) -> None:
    config = TINY
    tokens = torch.randint(0, config.vocab_size, (23,), generator=torch.Generator().manual_seed(2)).tolist()
    for dtype, bounds in TINY_DTYPES:
        if not triton_ok:
            stage.put("triton backend", "not checked: Triton cannot run on this GPU")
            break
        models = {b: random_model(config, DEVICE, dtype, b, seed=11) for b in ("torch", "triton")}
        full = errors(models["triton"].logits(tokens), models["torch"].logits(tokens))
        stage.check(f"whole forward, triton vs torch backend, {str(dtype)[6:]}",
                    full[0] <= bounds[0] and full[1] <= bounds[1],
                    f"max {full[0]:.2e}, rms {full[1]:.2e} (allowed {bounds[0]:g} / {bounds[1]:g})")
        sessions = {b: m.new_session(64) for b, m in models.items()}
        worst = (0.0, 0.0)
        for feed in [tokens[:13]] + [[t] for t in tokens[13:]]:
            step = errors(sessions["triton"].feed(feed), sessions["torch"].feed(feed))
            worst = (max(worst[0], step[0]), max(worst[1], step[1]))
        stage.check(f"a session (13-token prefill, 10 decode steps, ring wrapped), {str(dtype)[6:]}",
                    worst[0] <= bounds[0] and worst[1] <= bounds[1],
                    f"worst step: max {worst[0]:.2e}, rms {worst[1]:.2e}")
    backend = "triton" if triton_ok else "torch"
    model = random_model(config, DEVICE, torch.float32, backend, seed=11)
    paths = {"device": (model, True)}
    if model.transformer.ops.graph_safe:
        paths["graphs"] = (graphed(model), True)
    for name, params in (("greedy", GREEDY), ("seeded", SEEDED)):
        expected, _ = loop_tokens(model, tokens, params, on_device=False)
        for path, (m, on_device) in paths.items():
            got, _ = loop_tokens(m, tokens, params, on_device)
            stage.check(f"{name} tokens, {path} loop vs the CPU token loop ({backend}, float32)", got == expected,
                        first_difference(got, expected))
    if "graphs" in paths:
        eager, replayed = model.new_session(64), graphed(model).new_session(64)
        worst = 0.0
        for session in (eager, replayed):
            session.feed(tokens[:13])
        for t in tokens[13:13 + LOOP_TOKENS]:
            token = torch.tensor([t], device=DEVICE)
            a, b = eager.step_on_device(token), replayed.step_on_device(token)
            worst = max(worst, errors(b, a)[0])
            eager.confirm(t)
            replayed.confirm(t)
        stage.check("graph replay vs eager steps, logits", worst <= 1e-5, f"worst relative max error {worst:.2e}")
        stage.put("host syncs per token (torch sync debug)", syncs_per_token(graphed(model), tokens, SYNC_STEPS))


def syncs_per_token(model: Model, prompt: list[int], steps: int) -> dict:
    out = {}
    session = model.new_session(len(prompt) + 2 * steps + 8)
    session.feed(prompt)
    out["feed"] = syncs_during(lambda: [session.feed([5]) for _ in range(steps)]) / steps
    logits = session.feed_on_device([5])
    loop = decode_on_device(session, logits, DeviceSampler(SEEDED, model.device), stop=(), max_new_tokens=steps + 4,
                            cancel=threading.Event())
    for _ in range(3):
        next(loop)  # the first steps warm up and capture
    out["device loop"] = syncs_during(lambda: [next(loop) for _ in range(steps)]) / steps
    return out


# --- bandwidth -----------------------------------------------------------------------------------

def peak(device) -> tuple[float | None, str]:
    props = torch.cuda.get_device_properties(device)
    clock_khz, bus_bits = getattr(props, "memory_clock_rate", 0), getattr(props, "memory_bus_width", 0)
    if clock_khz and bus_bits:
        return 2 * clock_khz * 1e3 * bus_bits / 8, "torch device properties: 2 x memory clock x bus width"
    nvml = peak_bandwidth(device)
    if nvml:
        return nvml, "NVML (pynvml)"
    try:
        import ctypes

        lib = ctypes.CDLL("libnvidia-ml.so.1")
        handle, clock, bus = ctypes.c_void_p(), ctypes.c_uint(), ctypes.c_uint()
        index = torch.device(device).index or 0
        if (lib.nvmlInit_v2() or lib.nvmlDeviceGetHandleByIndex_v2(index, ctypes.byref(handle))
                or lib.nvmlDeviceGetMaxClockInfo(handle, 2, ctypes.byref(clock))  # 2: NVML_CLOCK_MEM
                or lib.nvmlDeviceGetMemoryBusWidth(handle, ctypes.byref(bus))):
            return None, "NVML answered with an error"
        return 2 * clock.value * 1e6 * bus.value / 8, "NVML (libnvidia-ml): 2 x memory clock x bus width"
    except OSError:
        return None, "unknown (no clock in torch's properties, no NVML)"


def bandwidth(stage) -> None:
    value, source = peak(DEVICE)
    stage.put("peak memory bandwidth (GB/s)", f"{value / GB:.0f} ({source})" if value else source)
    stage.figures["peak_bytes_per_s"] = value
    a = torch.empty(2 * GiB, dtype=torch.uint8, device=DEVICE)
    b = torch.empty_like(a)
    b.copy_(a)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(10):
        b.copy_(a)
    torch.cuda.synchronize()
    copy = 10 * 2 * a.numel() / (time.perf_counter() - start)
    stage.put("device-to-device copy, read + write (GB/s)", copy / GB)
    stage.figures["copy_bytes_per_s"] = copy


# --- gpt-oss-20b / -120b ------------------------------------------------------------------------------

def fill_context(session, n: int, seed: int = 0) -> None:
    """Makes `session` hold `n` positions of random keys and values, as a prefill of n tokens would."""
    cache = session.cache
    device = cache.layers[0].k.device
    g = torch.Generator(device).manual_seed(seed)
    for layer in cache.layers:
        slots = len(layer.positions)
        layer.positions.fill_(-1)
        positions = torch.arange(max(0, n - slots) if layer.ring else 0, n, device=device)
        index = positions % slots if layer.ring else positions
        shape = (len(positions), *layer.k.shape[1:])
        layer.k[index] = torch.randn(shape, generator=g, device=device).to(layer.k.dtype)
        layer.v[index] = torch.randn(shape, generator=g, device=device).to(layer.v.dtype)
        layer.positions[index] = positions
    cache.position = n
    session.tokens = [0] * n


def timed_decode(model: Model, context: int, path: str, limit: int, steps: int) -> float:
    """Seconds per token, decoding `steps` tokens after `context` of filled context."""
    session = model.new_session(limit)
    fill_context(session, context)
    if path == "feed":
        for _ in range(2):
            session.feed([7])
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            session.feed([7])
        return (time.perf_counter() - start) / steps
    loop = decode_on_device(session, session.feed_on_device([7]), DeviceSampler(GREEDY, model.device), stop=(),
                            max_new_tokens=steps + 4, cancel=threading.Event())
    for _ in range(3):  # warm-up; the graphed path captures here
        next(loop)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        next(loop)
    return (time.perf_counter() - start) / steps


def full_model(stage, name: str, triton_ok: bool) -> None:
    config = CONFIGS[name]
    backend = "triton" if triton_ok else "torch"
    gc.collect()
    torch.cuda.empty_cache()
    free, total = torch.cuda.mem_get_info()
    stage.put("free before the model (GiB)", f"{free / GiB:.1f} of {total / GiB:.1f}")
    fits = largest_context(config, free, "bfloat16", backend)
    stage.put("context the memory plan grants on this card", fits)
    base = torch.cuda.memory_allocated()
    start = time.perf_counter()
    model = random_model(config, DEVICE, MODEL_DTYPE, backend, seed=0)
    torch.cuda.synchronize()
    weights = torch.cuda.memory_allocated() - base
    stage.put("random weights made on the GPU (s)", time.perf_counter() - start)
    within_percent(stage, "weights in memory vs the plan", weights, weights_bytes(config), 1)
    limit = CONTEXTS[-1] + 256
    warm = model.new_session(2 * WARM_PROMPT)  # compiles the prefill and decode kernels of these shapes
    warm.feed(list(range(WARM_PROMPT)))
    warm.feed([1])
    del warm
    torch.cuda.empty_cache()
    per_token = 0.0
    for n in PREFILLS:
        if stage.left() < 30 + 2 * n * per_token:  # attention grows with the prompt: twice the rate so far
            stage.put(f"prefill {n}", f"skipped: out of time ({stage.left():.0f} s left)")
            continue
        torch.cuda.reset_peak_memory_stats()
        session = model.new_session(limit)
        cache = torch.cuda.memory_allocated() - base - weights
        ids = torch.randint(0, config.vocab_size, (n,), generator=torch.Generator().manual_seed(n)).tolist()
        torch.cuda.synchronize()
        start = time.perf_counter()
        session.feed(ids)  # returns CPU logits: the time includes the whole prefill
        seconds = time.perf_counter() - start
        stage.put(f"prefill {n} tokens (tokens/s)", n / seconds)
        per_token = seconds / n
        if n == PREFILLS[-1]:
            within_percent(stage, f"KV cache for {limit} tokens vs the plan", cache, kv_cache_bytes(config, limit), 1)
            workspace = torch.cuda.max_memory_allocated() - base - weights - cache
            plan = plan_memory(config, limit, "bfloat16", backend)
            stage.put("prefill workspace, measured vs planned (MiB)",
                      f"{workspace / 2**20:.0f} vs {workspace_bytes(config, limit, 'bfloat16', backend) / 2**20:.0f}")
            reserved = torch.cuda.max_memory_reserved()
            stage.check(f"peak reserved within the plan's total at {limit} tokens", reserved <= plan.total,
                        f"{reserved / GiB:.2f} GiB reserved at most vs {plan.total / GiB:.2f} GiB planned")
        del session
        torch.cuda.empty_cache()
    row = torch.zeros(1, config.hidden_size, device=DEVICE, dtype=MODEL_DTYPE)
    model.transformer.unembed(row).cpu()
    start = time.perf_counter()
    for _ in range(10):
        model.transformer.unembed(row).cpu()
    stage.put("one row of logits, lm_head + copy to the host (ms): paid per chunk by a prefill through "
              "Session.feed, not Session.extend", 100 * (time.perf_counter() - start))
    peak_rate = stage.report.data["stages"].get(BANDWIDTH_STAGE, {}).get("peak_bytes_per_s")
    paths = {"feed": model, "device": model}
    if model.transformer.ops.graph_safe:
        paths["graphs"] = graphed(model)
        replay_matches_eager(stage, model, limit)
    for context in CONTEXTS:
        read = sum(decode_token_bytes(config, context).values())
        for path, m in paths.items():
            if stage.left() < 15:
                stage.put(f"decode at {context}, {path}", "skipped: out of time")
                continue
            seconds = timed_decode(m, context, path, limit, STEPS)
            share = f", {100 * read / seconds / peak_rate:.0f}% of peak" if peak_rate else ""
            stage.put(f"decode at {context} of context, {path} (tokens/s)",
                      f"{1 / seconds:.1f}; {read / GB:.2f} GB read per token, {read / seconds / GB:.0f} GB/s{share}")
            stage.figures[f"decode_{context}_{path}_tokens_per_s"] = 1 / seconds
            gc.collect()
            torch.cuda.empty_cache()
    del model, paths
    gc.collect()
    torch.cuda.empty_cache()


def replay_matches_eager(stage, model: Model, limit: int) -> None:
    """One step at the first context (1k), eager and replayed from a graph (its third call), same cache."""
    eager, replayed = model.new_session(limit), graphed(model).new_session(limit)
    logits = []
    for session in (eager, replayed):
        fill_context(session, CONTEXTS[0])
        token = torch.tensor([9], device=DEVICE)
        for _ in range(3):  # warm-up, capture + replay, replay: each taken back by the next
            out = session.step_on_device(token)
        logits.append(out.clone())
    max_rel, rms_rel = errors(logits[1], logits[0])
    same_top = int(logits[1].argmax()) == int(logits[0].argmax())
    stage.check("graph replay vs eager step at full shape, logits", max_rel <= 1e-2 and rms_rel <= 1e-3 and same_top,
                f"max {max_rel:.2e}, rms {rms_rel:.2e}, same top token: {same_top} (MoE sums in float32 atomics: "
                "their order varies)")


def within_percent(stage, what: str, measured: int, planned: int, percent: float) -> None:
    off = 100 * (measured - planned) / planned
    stage.check(what, abs(off) <= percent, f"{measured / GiB:.3f} GiB vs {planned / GiB:.3f} GiB ({off:+.2f}%)")
