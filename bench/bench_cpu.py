"""The CPU engine on the whole gpt-oss-20b, as the window loads it, for side-by-side figures.

Writes (once) the whole 20b with core's checkpoint writer (24 layers, real shapes, random
weights in the published layout, 12.8 GiB), then, in a fresh process so peak RSS is the
engine's own, loads it as the window does (`load_model(path, preload=True)`) and prints:
load time, peak RSS against the checkpoint, prefill tokens/s for 128- and 512-token
prompts, decode tokens/s (from an empty context, as llama-bench's tg test, and after
512 tokens), one decode step split into attention, MoE, lm_head and the rest,
decode at 1 and 2 threads, and what choosing a token adds per step (sampling, and the
structured-output mask of a JSON answer). Compare with llama.cpp on the same folder:

    sync; echo 3 > /proc/sys/vm/drop_caches; python bench/bench_cpu.py
    sync; echo 3 > /proc/sys/vm/drop_caches; ../shared/bench/llamacpp_anchor.sh bench/out/20b 2 128 16

    python bench/bench_cpu.py [--dir bench/out/20b] [--layers 24] [--decode-tokens 16] [--backend cpu|torch]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_core import _peak_rss, decode_steps, write  # noqa: E402  (after the path is set)


class _Timed:
    """Wraps the backend's ops to add up the seconds each kind takes during one decode step."""

    def __init__(self, transformer):
        from dataclasses import replace

        self.seconds: dict[str, float] = defaultdict(float)
        ops = transformer.ops
        self.original = ops
        head = transformer.weights.lm_head

        def timed(kind, fn):
            def run(*args, **kwargs):
                start = time.perf_counter()
                out = fn(*args, **kwargs)
                name = "lm_head" if kind == "linear" and args[1] is head else kind
                self.seconds[name] += time.perf_counter() - start
                return out
            return run

        self.ops = replace(ops, attention=timed("attention", ops.attention), moe=timed("moe", ops.moe),
                           linear=timed("linear", ops.linear),
                           project=ops.project and timed("linear", ops.project))


def _decode(session, logits, tokens: int) -> tuple[float, object]:
    times, logits = decode_steps(session, logits, tokens)
    return statistics.median(times), logits


def measure(folder: Path, decode_tokens: int, backend: str | None) -> dict:
    import torch

    from core import load_model
    from kernels import _cpu

    start = time.perf_counter()
    model = load_model(folder, preload=True, backend=backend)
    load_s = time.perf_counter() - start
    disk = sum(p.stat().st_size for p in folder.glob("*.safetensors"))
    g = torch.Generator().manual_seed(0)
    result = {"load_s": load_s, "checkpoint_bytes": disk, "threads": torch.get_num_threads(),
              "path": _cpu.describe() if backend in (None, "cpu") else "PyTorch (forced)"}
    for prompt_tokens in (128, 512):
        prompt = torch.randint(0, 199998, (prompt_tokens,), generator=g).tolist()
        session = model.new_session()
        start = time.perf_counter()
        logits = session.feed(prompt)
        result[f"prefill_{prompt_tokens}_tok_s"] = prompt_tokens / (time.perf_counter() - start)
    step_s, logits = _decode(session, logits, decode_tokens)
    result["decode_after_512_tok_s"] = 1 / step_s
    # As llama-bench's tg test: decode from an empty context (one token in), so both engines'
    # figures count the weights' reads, not attention over a prompt only one of them has.
    fresh = model.new_session()
    step_s, _ = _decode(fresh, fresh.feed([int(logits.argmax())]), decode_tokens)
    result["decode_tok_s"] = 1 / step_s

    transformer = model.transformer
    timed = _Timed(transformer)
    transformer.ops = timed.ops
    split = defaultdict(list)
    for _ in range(5):
        timed.seconds.clear()
        step, logits = _decode(session, logits, 1)
        for kind in ("attention", "moe", "lm_head", "linear"):
            split[kind].append(timed.seconds[kind])
        split["step"].append(step)
    transformer.ops = timed.original
    result["split_ms"] = {kind: 1000 * statistics.median(v) for kind, v in split.items()}

    kernels = _cpu.available() if backend in (None, "cpu") else None
    for threads in (1, 2):
        torch.set_num_threads(threads)
        if kernels is not None:
            kernels.set_threads(threads)
        step_s, logits = _decode(session, logits, max(4, decode_tokens // 2))
        result[f"decode_{threads}_threads_tok_s"] = 1 / step_s
    result["peak_rss_bytes"] = _peak_rss()  # before the structured-output measure below loads its tables
    result.update(_per_token_extras(logits))
    return result


def _per_token_extras(logits) -> dict:
    """What choosing a token costs beside the forward pass: sampling at temperature 1, and the
    structured-output mask (grammar step + masking the logits) over a whole JSON answer."""
    from core.chat.structured import JsonFormat, Structure, TokenMask
    from core.chat.tokenizer import load_tokenizer, shipped_vocabulary
    from core.engine.sampling import Sampler, SamplingParams

    logits = logits.float()
    sampler = Sampler(SamplingParams(temperature=1.0, seed=0))
    start = time.perf_counter()
    for _ in range(20):
        sampler(logits)
    sample_ms = (time.perf_counter() - start) / 20 * 1000
    tok = load_tokenizer(shipped_vocabulary())
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                                               "tags": {"type": "array", "items": {"type": "string"}}},
              "required": ["name", "age", "tags"], "additionalProperties": False}
    answer = [tok.channel, *tok.encode("final"), tok.message,
              *tok.encode('{"name": "Ada Lovelace", "age": 36, "tags": ["mathematician", "writer"]}'), tok.return_]
    mask = TokenMask(Structure(JsonFormat(schema)), tok)  # the vocabulary's tables are built here, once
    start = time.perf_counter()
    for token in answer:
        mask.restrict(logits)
        mask.accept(token)
    mask_ms = (time.perf_counter() - start) / len(answer) * 1000
    return {"sample_ms": sample_ms, "mask_ms": mask_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=ROOT / "bench" / "out" / "20b")
    parser.add_argument("--layers", type=int, default=24)
    parser.add_argument("--decode-tokens", type=int, default=16)
    parser.add_argument("--backend", choices=("cpu", "torch"), help="default: what load_model picks")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        print(json.dumps(measure(args.dir, args.decode_tokens, args.backend)))
        return
    write(args.dir, args.layers)
    cmd = [sys.executable, __file__, "--measure-only", "--dir", str(args.dir),
           "--decode-tokens", str(args.decode_tokens)]
    if args.backend:
        cmd += ["--backend", args.backend]
    r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    gib = 2**30
    s = r["split_ms"]
    other = s["step"] - s["attention"] - s["moe"] - s["lm_head"] - s["linear"]
    print(f"gpt-oss-20b on the CPU, {r['threads']} threads. {r['path']}")
    print(f"  checkpoint on disk      {r['checkpoint_bytes'] / gib:8.2f} GiB")
    print(f"  load (preload)          {r['load_s']:8.1f} s")
    ratio = r["peak_rss_bytes"] / r["checkpoint_bytes"]
    print(f"  peak RSS                {r['peak_rss_bytes'] / gib:8.2f} GiB = {ratio:.3f}x the checkpoint"
          " (target <= 1.10x)")
    print(f"  prefill, 128 tokens     {r['prefill_128_tok_s']:8.1f} tokens/s")
    print(f"  prefill, 512 tokens     {r['prefill_512_tok_s']:8.1f} tokens/s")
    print(f"  decode                  {r['decode_tok_s']:8.2f} tokens/s (from an empty context, as llama-bench's tg)")
    print(f"  decode after 512 tokens {r['decode_after_512_tok_s']:8.2f} tokens/s")
    print(f"  one decode step         {s['step']:8.1f} ms = attention {s['attention']:.1f} + MoE {s['moe']:.1f}"
          f" + projections {s['linear']:.1f} + lm_head {s['lm_head']:.1f} + the rest {other:.1f}")
    print(f"  decode at 1 / 2 threads {r['decode_1_threads_tok_s']:8.2f} / {r['decode_2_threads_tok_s']:.2f} tokens/s")
    print(f"  per token, beside it    sampling {r['sample_ms']:.2f} ms; structured-output mask {r['mask_ms']:.2f} ms"
          f" ({100 * r['mask_ms'] / s['step']:.1f}% of a decode step)")
    print("llama.cpp on the same folder: ../shared/bench/llamacpp_anchor.sh " + str(args.dir) + " 2 128 16")


if __name__ == "__main__":
    main()
