"""How close the CPU engine's bfloat16 logits stay to Hugging Face transformers' float32 ones.

Writes (once) a gpt-oss checkpoint with the real 20b shapes and N layers (default 2: the
float32 reference needs ~11 GiB) in the published layout, runs transformers'
GptOssForCausalLM in float32 (MXFP4 dequantized) on 30 tokens, then Hearth in bfloat16 as
the window runs it: one full forward, and token by token through a session. Prints, for
each, the relative max error (max |diff| / max |reference|) and the argmax agreement.
The issue's bar: <= 0.06 and >= 28 of 30.

    python bench/fidelity_cpu.py --reference-python REF/bin/python [--layers 2] [--backend cpu|torch]

The reference runs in its own Python (REF: a venv with torch, transformers==4.57.6 and
accelerate), since transformers pins an older huggingface_hub than Hearth's downloads use:
    python3 -m venv REF && REF/bin/pip install torch transformers==4.57.6 accelerate
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_cpu import write  # noqa: E402  (after the path is set)

POSITIONS = 30


def transformers_logits(folder: Path, tokens: list[int]):
    import torch
    from transformers import GptOssForCausalLM, Mxfp4Config

    model = GptOssForCausalLM.from_pretrained(folder, torch_dtype=torch.float32,
                                              quantization_config=Mxfp4Config(dequantize=True))
    model = model.float().eval()  # the dequantized experts come as bf16: float32 throughout
    with torch.inference_mode():
        return model(torch.tensor([tokens])).logits[0].float()


def reference_in(python: str, folder: Path, tokens: list[int]):
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "logits.pt"
        subprocess.run([python, __file__, "--reference-only", str(folder), str(out), ",".join(map(str, tokens))],
                       check=True)
        return torch.load(out)


def compare(name: str, actual, expected) -> str:
    max_err = ((actual - expected).abs().max() / expected.abs().max()).item()
    agree = int((actual.argmax(-1) == expected.argmax(-1)).sum())
    return f"  {name:<20} relative max error {max_err:.4f}, argmax agreement {agree}/{len(expected)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--backend", choices=("cpu", "torch"), default=None, help="default: what load_model picks")
    parser.add_argument("--reference-python", default=sys.executable, help="a Python with transformers")
    parser.add_argument("--reference-only", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference_only:
        import torch

        folder, out, tokens = args.reference_only
        torch.save(transformers_logits(Path(folder), [int(t) for t in tokens.split(",")]), out)
        return
    folder = args.dir or ROOT / "bench" / "out" / f"20b-{args.layers}l"
    write(folder, args.layers)
    import torch

    from core import load_model

    tokens = torch.randint(0, 199998, (POSITIONS,), generator=torch.Generator().manual_seed(0)).tolist()
    expected = reference_in(args.reference_python, folder, tokens)
    model = load_model(folder, backend=args.backend)
    full = model.logits(tokens)
    session = model.new_session()
    stepwise = torch.stack([session.feed([t]) for t in tokens])
    backend = args.backend or "default"
    print(f"gpt-oss-20b shapes, {args.layers} layers, Hearth bfloat16 ({backend} backend) against transformers "
          f"float32, {POSITIONS} positions")
    print(compare("full forward", full, expected))
    print(compare("token by token", stepwise, expected))


if __name__ == "__main__":
    main()
