"""The --cuda build's pre-built Triton launcher: made without a GPU or its driver, stored
under the key Triton itself looks up, and found there by the self-test's check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def launcher_cached(cache: Path) -> bool:
    code = "from cli.selftest import launcher_cached; print(launcher_cached())"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "TRITON_CACHE_DIR": str(cache)},
                            capture_output=True, text=True, check=True)
    return result.stdout.strip() == "True"


def test_launcher_is_prebuilt_into_the_cache_triton_reads(tmp_path):
    cache = tmp_path / "triton-cache"
    assert not launcher_cached(cache)
    result = subprocess.run([sys.executable, "installer/prebuild_triton_launcher.py", str(cache)], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    [module] = cache.glob("*/cuda_utils*.so")
    # It needs the real driver library at run time, which this machine (no GPU) does not have.
    needed = subprocess.run(["readelf", "-d", str(module)], capture_output=True, text=True, check=True).stdout
    assert "Shared library: [libcuda.so.1]" in needed
    assert launcher_cached(cache)
