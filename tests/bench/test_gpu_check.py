"""bench/gpu_check.sh without a GPU: it runs the checks that need none, with nothing importable
but torch and Triton (as on the GPU machine), says plainly that there is no GPU, writes its
figures, and exits 0. And a rehearsal of its GPU stages on the processor, at tiny shapes, so
that a one-shot run on a real GPU does not end on a mistake the processor could have shown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
NO_GPU = "No NVIDIA GPU found: nothing to check on a GPU."
# The project's own dependencies a GPU machine with torch and Triton alone lacks.
ABSENT = ("psutil", "safetensors", "tiktoken", "huggingface_hub", "llguidance", "PySide6", "pynvml")
BLOCKER = f"""
import importlib.abc, sys

class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {ABSENT!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (absent, as on the GPU machine)")
        return None

sys.meta_path.insert(0, Absent())
"""


@pytest.mark.skipif(torch.cuda.is_available(), reason="there is a GPU: bench/gpu_check.sh is the check")
def test_without_a_gpu_it_says_so_after_the_checks_that_need_none(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(BLOCKER)
    out = tmp_path / "figures" / "gpu.json"
    env = {k: v for k, v in os.environ.items() if k not in ("TRITON_INTERPRET", "PYTHONPATH")}
    env |= {"PYTHON": sys.executable, "PYTHONPATH": str(tmp_path / "site")}
    result = subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh"), str(out)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert NO_GPU in result.stdout
    assert "not installed (the check needs none of them): psutil, safetensors" in result.stdout
    figures = json.loads(out.read_text())
    assert figures["gpu"] == NO_GPU
    stages = figures["stages"]
    assert list(stages) == ["environment", "memory plan", "capture-safe"]
    assert all(stage["status"] == "ok" for stage in stages.values())
    assert figures["summary"]["failed"] == []
    assert "gpt-oss-120b at 32768 tokens (GiB)" in stages["memory plan"]
    assert "108 Triton launches per step" in json.dumps(stages["capture-safe"])


def test_it_needs_the_file_to_write(tmp_path):
    result = subprocess.run(["bash", str(ROOT / "bench" / "gpu_check.sh")], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2 and "usage: bash bench/gpu_check.sh OUT_FILE" in result.stderr


REHEARSAL = """
import json, os, sys
from pathlib import Path
sys.path[:0] = [{root!r}, {root!r} + "/bench"]
import torch

# The CUDA calls the stages make, answered as by an empty GPU.
for name in ("synchronize", "reset_peak_memory_stats", "empty_cache", "set_sync_debug_mode"):
    setattr(torch.cuda, name, lambda *a, **k: None)
for name in ("memory_allocated", "max_memory_allocated", "max_memory_reserved"):
    setattr(torch.cuda, name, lambda *a, **k: 0)
torch.cuda.mem_get_info = lambda *a: (8 * 2**30, 16 * 2**30)

import gpu_check, gpu_check_kernels as k, gpu_check_model as m
from core.engine.testing import tiny_config

os.environ["TRITON_INTERPRET"] = "1"  # gpu_check removed it; the kernels are imported at their first call
k.DEVICE = m.DEVICE = "cpu"
k.BF16 = torch.float32  # the interpreter's bf16 is wrong; in float32 the kernel checks must pass here too
k.D = k.I = 64
k.HEADS, k.KV_HEADS, k.HEAD_DIM, k.WINDOW = 8, 2, 16, 8
k.EXPERTS, k.TOKENS, k.CHUNK, k.MID, k.LONG = (("tiny", 8),), (1, 7), 16, 64, 256
m.TINY = tiny_config(num_hidden_layers=2, sliding_window=4)
m.CONFIGS = {{"gpt-oss-20b": tiny_config(num_hidden_layers=2, sliding_window=8)}}
m.CONTEXTS, m.PREFILLS, m.STEPS, m.LOOP_TOKENS, m.SYNC_STEPS, m.WARM_PROMPT = (16, 64), (16, 40), 2, 3, 2, 20
m.TINY_DTYPES, m.MODEL_DTYPE = m.TINY_DTYPES[:1], torch.float32

triton = {triton}
report = gpu_check.Report(Path({out!r}), 900)
if triton:
    report.run("kernels", k.check_kernels)
report.run("tiny model", lambda s: m.tiny_model(s, triton))
report.run("gpt-oss-20b", lambda s: m.full_model(s, "gpt-oss-20b", triton))
"""


def rehearse(tmp_path, triton: bool) -> dict:
    out = tmp_path / "rehearsal.json"
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    script = REHEARSAL.format(root=str(ROOT), out=str(out), triton=triton)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stages = json.loads(out.read_text())["stages"]
    assert {name: stage.get("error") for name, stage in stages.items()} == dict.fromkeys(stages), result.stdout[-4000:]
    assert all(check["ok"] for check in stages["tiny model"]["checks"].values()), result.stdout[-4000:]
    assert {"prefill 40 tokens (tokens/s)", "decode at 64 of context, device (tokens/s)"} <= set(stages["gpt-oss-20b"])
    return stages


def test_the_gpu_stages_rehearse_on_the_processor(tmp_path):
    # Shapes shrunk, the torch backend: every line of the model stages that does not need the
    # Triton kernels runs, none raises, and the tiny model's checks (device loop = CPU loop) hold.
    rehearse(tmp_path, triton=False)


@pytest.mark.slow
def test_the_gpu_stages_rehearse_with_interpreted_kernels(tmp_path):
    # The same with the Triton kernels interpreted in float32 (~2 s a decode step here): the
    # kernel stage, both backends compared, and the graphed path's lines (a processor's
    # sessions run those steps eagerly).
    stages = rehearse(tmp_path, triton=True)
    # mxfp4 (its two dtypes are one here), moe at 2 token counts, the router, 8 attention cases
    assert len(stages["kernels"]["checks"]) == 1 + 2 + 1 + 8
    assert all(check["ok"] for check in stages["kernels"]["checks"].values())
    assert "decode at 64 of context, graphs (tokens/s)" in stages["gpt-oss-20b"]
    assert stages["tiny model"]["host syncs per token (torch sync debug)"] == {"feed": 0, "device loop": 0}
    assert stages["gpt-oss-20b"]["checks"]["graph replay vs eager step at full shape, logits"]["ok"]
