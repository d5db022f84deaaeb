#!/usr/bin/env bash
# One prepared check of Hearth's GPU path, for a machine with one NVIDIA GPU where torch and
# Triton are installed and nothing else need be (no network, no pip): kernels against their
# torch twins, the tiny model through both backends and both decode loops, the Triton kernel
# cache, and gpt-oss-20b / -120b speeds and memory on random weights made on the GPU.
# bench/gpu_check.py says what each stage does. It uses the python3 it finds (PYTHON= to choose
# another), with this repository on PYTHONPATH, and finishes in under 8 minutes.
#
#   bash bench/gpu_check.sh OUT_FILE
#
# Figures are printed and written to OUT_FILE (JSON) as they come. Without a GPU it runs the
# checks that need none, says "No NVIDIA GPU found: nothing to check on a GPU." and exits 0.
# Exit 1: a check failed; 124: stopped at 8 minutes (OUT_FILE holds what had finished).
set -u
if [ $# -ne 1 ]; then
    echo "usage: bash bench/gpu_check.sh OUT_FILE" >&2
    exit 2
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$1
python=${PYTHON:-python3}
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
unset TRITON_INTERPRET  # the real kernels, compiled for this GPU
# The check keeps its own budget (7.5 minutes) and skips what would not fit; the timeout is
# the last resort should a kernel hang.
timeout -k 10 470 "$python" "$root/bench/gpu_check.py" "$out"
status=$?
if [ $status -eq 124 ] || [ $status -eq 137 ]; then
    echo "gpu_check: stopped after 8 minutes; $out holds the stages that had finished" >&2
fi
exit $status
