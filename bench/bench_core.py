"""Benchmark of the CPU engine on the real gpt-oss-20b layer shapes.

Writes (once) a random checkpoint with hidden 2880, 32 experts, top-4, vocab 201088 and
2 layers in the published layout, then measures, in a fresh process so peak RSS is the
engine's own: load time, peak RSS against the bytes on disk, prefill tokens/s for a
512-token prompt, decode tokens/s, and the projection to all 24 layers of gpt-oss-20b.

    python bench/bench_core.py [--layers 2] [--decode-tokens 16] [--dir bench/out/20b-2layers]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def write(folder: Path, layers: int) -> None:
    from core.engine.config import GPT_OSS_20B
    from core.engine.testing import write_checkpoint

    if (folder / "model.safetensors.index.json").exists():
        return
    print(f"writing a {layers}-layer checkpoint with the 20b shapes to {folder} ...", flush=True)
    start = time.perf_counter()
    write_checkpoint(folder, GPT_OSS_20B.replace(num_hidden_layers=layers), seed=0)
    print(f"  written in {time.perf_counter() - start:.0f} s", flush=True)


def measure(folder: Path, prompt_tokens: int, decode_tokens: int) -> dict:
    import torch

    from core import load_model
    from core.engine.model import checkpoint_bytes

    start = time.perf_counter()
    model = load_model(folder)
    load_s = time.perf_counter() - start
    disk = sum(p.stat().st_size for p in folder.glob("*.safetensors"))
    g = torch.Generator().manual_seed(0)
    prompt = torch.randint(0, 199998, (prompt_tokens,), generator=g).tolist()

    session = model.new_session()
    start = time.perf_counter()
    logits = session.feed(prompt)
    prefill_s = time.perf_counter() - start

    token_times, logits = decode_steps(session, logits, decode_tokens)
    decode_s = sorted(token_times)[len(token_times) // 2]  # median: robust to a noisy neighbour

    # The part of a decode step outside the blocks (embedding row, final norm, lm_head).
    hidden = torch.randn(1, model.config.hidden_size).to(torch.bfloat16)
    head_times = []
    for _ in range(7):
        start = time.perf_counter()
        model.transformer.unembed(hidden)
        head_times.append(time.perf_counter() - start)
    head_s = min(head_times)  # a lower bound, so the per-layer figure is not flattered

    layers = model.config.num_hidden_layers
    per_layer_s = max(0.0, decode_s - head_s) / layers
    projected_s = 24 * per_layer_s + head_s
    return {
        "layers": layers,
        "checkpoint_bytes": disk,
        "weights_bytes": checkpoint_bytes(model.transformer.weights),
        "load_s": load_s,
        "peak_rss_bytes": _peak_rss(),
        "prefill_tokens": prompt_tokens,
        "prefill_tok_s": prompt_tokens / prefill_s,
        "decode_tok_s": 1 / decode_s,
        "decode_layer_ms": per_layer_s * 1000,
        "lm_head_ms": head_s * 1000,
        "projected_20b_decode_tok_s": 1 / projected_s,
        "projected_20b_prefill_tok_s": prompt_tokens / (prefill_s / layers * 24),
    }


def decode_steps(session, logits, tokens: int) -> tuple[list[float], object]:
    """Feeds `tokens` greedy tokens one at a time: the seconds each step took, and the last logits."""
    times = []
    for _ in range(tokens):
        token = int(logits.argmax())
        start = time.perf_counter()
        logits = session.feed([token])
        times.append(time.perf_counter() - start)
    return times, logits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--decode-tokens", type=int, default=16)
    parser.add_argument("--dir", type=Path, default=ROOT / "bench" / "out" / "20b-2layers")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        print(json.dumps(measure(args.dir, args.prompt_tokens, args.decode_tokens)))
        return
    write(args.dir, args.layers)
    out = subprocess.run([sys.executable, __file__, "--measure-only", "--dir", str(args.dir),
                          "--prompt-tokens", str(args.prompt_tokens), "--decode-tokens", str(args.decode_tokens)],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    gib = 2**30
    print(f"gpt-oss-20b shapes, {r['layers']} layers, CPU ({_threads()} threads)")
    print(f"  checkpoint on disk     {r['checkpoint_bytes'] / gib:8.2f} GiB")
    print(f"  load time              {r['load_s']:8.2f} s")
    print(f"  peak RSS               {r['peak_rss_bytes'] / gib:8.2f} GiB"
          f"  = {r['peak_rss_bytes'] / r['checkpoint_bytes']:.2f}x the checkpoint (target <= 1.15x)")
    print(f"  prefill ({r['prefill_tokens']} tokens)   {r['prefill_tok_s']:8.1f} tokens/s")
    print(f"  decode                 {r['decode_tok_s']:8.2f} tokens/s"
          f"  ({r['decode_layer_ms']:.1f} ms per layer, lm_head {r['lm_head_ms']:.1f} ms)")
    print(f"  projected 24 layers    {r['projected_20b_decode_tok_s']:8.2f} tokens/s decode (target >= 1),"
          f" {r['projected_20b_prefill_tok_s']:.1f} tokens/s prefill")


def _peak_rss() -> int:
    """VmHWM: unlike getrusage's ru_maxrss, it is not inherited from the parent across exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    main()
