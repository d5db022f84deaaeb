"""`hearth hardware`: what this machine has and which gpt-oss model fits it, with the numbers.

Exit code (cli/exit_codes.py): 0 when some model fits, 7 when the machine is too small for any,
2 for a context length the models do not support.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from cli import exit_codes
from core.errors import InvalidInput
from core.store import CATALOGUE
from core.system.environment import default_models_dir
from core.system.hardware import detect_hardware, plan_fit, recommend
from core.units import size_text


def register(subparsers) -> None:
    p = subparsers.add_parser("hardware", help="show GPUs, memory and disk, and which model fits")
    p.add_argument("--context", type=int, default=8192, metavar="TOKENS",
                   help="context length to plan for (default 8192; the models allow up to 131072)")
    p.add_argument("--models-dir", help="models folder whose disk to measure")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(func=run)


def run(args) -> int:
    hw = detect_hardware(args.models_dir or default_models_dir())
    try:
        plans = [plan_fit(model_id, hw, args.context) for model_id in CATALOGUE]
    except InvalidInput as e:
        print(f"hearth: {e}", file=sys.stderr)
        return exit_codes.USAGE
    rec = recommend(hw, args.context)
    if args.json:
        print(json.dumps({"hardware": asdict(hw), "plans": [asdict(p) for p in plans],
                          "recommendation": {"model": rec.model, "message": rec.message}}, indent=2))
        return exit_codes.OK if rec.model else exit_codes.TOO_SMALL
    if hw.gpus:
        for g in hw.gpus:
            cc = f", compute {g.compute_capability[0]}.{g.compute_capability[1]}" if g.compute_capability else ""
            driver = f", driver {g.driver}" if g.driver else ""
            print(f"GPU {g.index}: {g.name}, {size_text(g.free_bytes)} free of {size_text(g.total_bytes)}{cc}{driver}")
    else:
        print("GPU: no NVIDIA graphics card found")
    for note in hw.notes:
        print(f"     ({note})")
    flags = ", ".join(hw.cpu.flags) or "none of note"
    print(f"CPU: {hw.cpu.name}, {hw.cpu.physical_cores} cores ({hw.cpu.logical_cores} threads); {flags}")
    if hw.cpu.kernels:
        print(f"     {hw.cpu.kernels}")
    print(f"RAM: {size_text(hw.ram_available_bytes)} free of {size_text(hw.ram_total_bytes)}")
    if hw.disk_free_bytes is not None:
        print(f"Disk: {size_text(hw.disk_free_bytes)} free for models")
    print(f"\nAt a context of {args.context} tokens:")
    for p in plans:
        verdict = {"gpu": "fits the GPU", "cpu-slow": "CPU only, slow", "does-not-fit": "does not fit"}[p.verdict]
        print(f"  {p.model:<13} {verdict:<15} needs {size_text(p.needed_bytes)} = weights {size_text(p.weights_bytes)}"
              f" + cache {size_text(p.kv_cache_bytes)} + overhead {size_text(p.overhead_bytes)}")
    print(f"\nRecommended: {rec.message}")
    return exit_codes.OK if rec.model else exit_codes.TOO_SMALL
