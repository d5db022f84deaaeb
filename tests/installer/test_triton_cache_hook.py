"""The frozen program's runtime hook that points Triton at the pre-built cache: seeded into
the user's cache once per build, read from the bundle when there is nowhere to write."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOOK = REPO / "installer" / "rthook_triton_cache.py"


def run_hook(bundle: Path, env: dict[str, str]) -> str:
    code = (f"import os, runpy, sys; sys._MEIPASS = {str(bundle)!r}; runpy.run_path({str(HOOK)!r}); "
            "print(os.environ.get('TRITON_CACHE_DIR', ''))")
    clean = {k: v for k, v in os.environ.items() if k not in ("TRITON_CACHE_DIR", "XDG_CACHE_HOME")}
    result = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                            check=True)
    return result.stdout.strip()


def make_bundle(root: Path, build: str = "0.1.0-20261125T080000Z-abc1234") -> Path:
    cache = root / "bundle" / "triton-cache"
    (cache / "KEY").mkdir(parents=True)
    (cache / "KEY" / "kernel.cubin").write_bytes(b"cubin")
    (cache / "BUILD").write_text(build + "\n")
    return root / "bundle"


def test_seeds_the_user_cache_once_per_build(tmp_path):
    bundle = make_bundle(tmp_path)
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    target = tmp_path / "cache" / "hearth" / "triton" / "0.1.0-20261125T080000Z-abc1234"
    assert run_hook(bundle, env) == str(target)
    assert (target / "KEY" / "kernel.cubin").read_bytes() == b"cubin"
    # Kernels Triton compiled since are kept: the next start does not copy over them.
    (target / "KEY" / "new.cubin").write_bytes(b"mine")
    assert run_hook(bundle, env) == str(target)
    assert (target / "KEY" / "new.cubin").read_bytes() == b"mine"
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no half-copied leftovers


def test_a_new_build_gets_its_own_cache(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    first = run_hook(make_bundle(tmp_path / "a", "build-one"), env)
    second = run_hook(make_bundle(tmp_path / "b", "build-two"), env)
    assert Path(first).name == "build-one" and Path(second).name == "build-two"


def test_falls_back_to_the_bundle_when_the_cache_folder_is_not_writable(tmp_path):
    bundle = make_bundle(tmp_path)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")  # a file where the cache folder would go: nothing can be created there
    assert run_hook(bundle, {"XDG_CACHE_HOME": str(blocked)}) == str(bundle / "triton-cache")


def test_leaves_a_cache_the_user_chose_and_builds_without_one_alone(tmp_path):
    bundle = make_bundle(tmp_path)
    assert run_hook(bundle, {"TRITON_CACHE_DIR": "/somewhere/else"}) == "/somewhere/else"
    assert run_hook(tmp_path / "cpu-bundle", {"XDG_CACHE_HOME": str(tmp_path / "cache")}) == ""
    assert not (tmp_path / "cache").exists()
