"""Builds the compiled CPU kernels (kernels/cpu/*.c) into one shared library per instruction set.

    python -m kernels.cpu_build [--cc CC] [--arch x86_64|aarch64] [--out DIR] [--quiet]

On x86-64: scalar, avx2 (AVX2 + FMA, every x86-64 processor since 2013), avx512 (F + BW) and
avx512-vnni; on AArch64: neon and scalar. kernels/_cpu.py loads the best one the processor
runs. The libraries are plain C with a C interface (no Python or torch headers), so they
build in seconds with the system's C compiler, and cross-compile (`--cc
aarch64-linux-gnu-gcc --arch aarch64`) for the NEON tests under qemu.

The README's install commands run this; the installer ships the results. Where no compiler
exists, Hearth runs the PyTorch path and says so.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCES = Path(__file__).resolve().parent / "cpu"
# Not beside the Python modules: an importer walking kernels/ would take a .so there for an
# extension module. (build/ folders are ignored by git.)
OUT = SOURCES / "build"
COMMON = ["-O3", "-std=gnu11", "-fPIC", "-shared", "-pthread", "-fno-math-errno", "-fno-trapping-math",
          "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Wno-unused-parameter"]

# instruction set -> compiler flags (defines + target options)
VARIANTS = {
    "x86_64": {
        "scalar": [],
        "avx2": ["-DHEARTH_AVX2", "-mavx2", "-mfma", "-mf16c"],
        "avx512": ["-DHEARTH_AVX512", "-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw", "-mavx512dq",
                   "-mavx512vl"],
        "avx512-vnni": ["-DHEARTH_AVX512", "-DHEARTH_VNNI", "-mavx2", "-mfma", "-mf16c", "-mavx512f", "-mavx512bw",
                        "-mavx512dq", "-mavx512vl", "-mavx512vnni"],
    },
    "aarch64": {
        "scalar": [],
        "neon": ["-DHEARTH_NEON"],
    },
}


def host_arch() -> str:
    machine = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)


def library_name(isa: str) -> str:
    return f"_hearth_cpu_{isa.replace('-', '_')}.so"


def find_compiler() -> str | None:
    for cc in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if cc and shutil.which(cc):
            return cc
    return None


def build(cc: str | None = None, arch: str | None = None, out: Path = OUT, isas: list[str] | None = None,
          extra: list[str] | None = None) -> dict[str, Path]:
    """Compiles each variant for `arch` into `out`; returns the libraries built. A variant the
    compiler cannot target (an old compiler without AVX-512 VNNI) is left out, not fatal."""
    cc = cc or find_compiler()
    if cc is None:
        raise RuntimeError("No C compiler found (cc, gcc or clang).")
    arch = arch or host_arch()
    variants = VARIANTS.get(arch)
    if variants is None:
        raise RuntimeError(f"No compiled kernels for the {arch} processor architecture.")
    sources = sorted(str(p) for p in SOURCES.glob("*.c"))
    built = {}
    out.mkdir(parents=True, exist_ok=True)
    for isa, flags in variants.items():
        if isas and isa not in isas:
            continue
        target = out / library_name(isa)
        # Compile beside the target, then rename: a running Hearth never sees half a library.
        with tempfile.TemporaryDirectory(dir=out) as tmp:
            partial = Path(tmp) / target.name
            cmd = [cc, *COMMON, *flags, *(extra or []), *sources, "-o", str(partial), "-lm"]
            result = subprocess.run(cmd, capture_output=True, text=True)
            if result.returncode != 0:
                if isa == "scalar":
                    raise RuntimeError(f"Building the CPU kernels failed:\n{result.stderr[-2000:]}")
                print(f"skipped the {isa} kernels: {result.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                continue
            os.replace(partial, target)
        built[isa] = target
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cc", help="C compiler (default: $CC, cc, gcc or clang)")
    parser.add_argument("--arch", help="target architecture (default: this machine's)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the libraries")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        built = build(args.cc, args.arch, args.out)
    except RuntimeError as error:
        print(f"{error}\nHearth will run on the processor without its compiled kernels (slower).", file=sys.stderr)
        return 1
    if not args.quiet:
        print("built the CPU kernels: " + ", ".join(built))
    return 0


if __name__ == "__main__":
    sys.exit(main())
