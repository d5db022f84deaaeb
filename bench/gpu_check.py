"""One prepared check of Hearth's GPU path on a machine with one NVIDIA GPU, in under 8 minutes:
`bash bench/gpu_check.sh OUT_FILE` (which runs `python3 bench/gpu_check.py OUT_FILE`).

It needs nothing installed but torch and Triton, and uses the ones it finds (it says which).
Stages, each guarded so that one failing is reported and the rest still run:

  environment     Python, torch (+ its CUDA), Triton, pytest, the GPU; the engine imports
  memory plan     core.engine.memory_plan's figures for gpt-oss-20b and -120b        (no GPU)
  capture-safe    a whole 20b and 120b decode step on meta tensors, launches recorded (no GPU)
  kernels         every Triton kernel on the GPU against its torch twin, bf16          (gpu_check_kernels.py)
  tiny model      the whole tiny model through the torch and triton backends; the device
                  decode loop, eager and from a CUDA graph, against the CPU token loop  (gpu_check_model.py)
  kernel cache    the shipped Triton cache (or one built as installer/build.sh builds it) is
                  found, and the engine's launches compile nothing new
  gpt-oss-20b,    random MXFP4 weights made on the GPU (no disk): memory against the plan,
  gpt-oss-120b    prefill tok/s at 1k and 8k, decode tok/s at 1k, 8k, 32k of context (today's
                  path, the device loop, CUDA graphs), bandwidth against the device's  (gpu_check_model.py)
  pytest          the device-loop and sampler tests on CUDA, where pytest is installed

Figures are printed as they come and written to OUT_FILE (JSON) after each one, so a run cut
short still leaves what it measured. Stages past the time budget are skipped, saying so.
Without a GPU it runs the first three stages, says "No NVIDIA GPU found: nothing to check on a
GPU." and exits 0 (tests/bench/test_gpu_check.py). Exit 1: a check failed.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.pop("TRITON_INTERPRET", None)  # the real kernels: before any kernel module is imported

import torch  # noqa: E402

NO_GPU = "No NVIDIA GPU found: nothing to check on a GPU."
BUDGET = 450.0  # seconds for the whole run; gpu_check.sh stops it at 480
GiB = 2**30


class Report:
    """Every stage's figures and checks; printed, and saved to `path` after each figure."""

    def __init__(self, path: Path, budget: float):
        self.path = path
        self.started = time.perf_counter()
        self.budget = budget
        self.data: dict = {"check": "hearth gpu_check", "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                           "stages": {}}
        self.save()

    def left(self) -> float:
        return self.budget - (time.perf_counter() - self.started)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".part")
        temporary.write_text(json.dumps(self.data, indent=1, default=str))
        temporary.replace(self.path)

    def run(self, name: str, body, needs: float = 0.0) -> Stage:
        stage = Stage(self, name)
        self.data["stages"][name] = stage.figures
        print(f"== {name}", flush=True)
        if self.left() < needs:
            stage.figures["status"] = "skipped"
            stage.put("skipped", f"out of time: {self.left():.0f} s left of {self.budget:.0f}, it needs ~{needs:.0f}")
            return stage
        start = time.perf_counter()
        try:
            body(stage)
        except Exception as error:  # one stage's failure is reported; the others still run
            stage.failures.append("raised")
            stage.figures["traceback"] = traceback.format_exc(limit=12)
            stage.put("error", f"{type(error).__name__}: {error}")
            print(stage.figures["traceback"], flush=True)
        stage.figures["seconds"] = round(time.perf_counter() - start, 1)
        stage.figures["status"] = "failed" if stage.failures else "ok"
        print(f"   {name}: {stage.figures['status']} in {stage.figures['seconds']} s", flush=True)
        self.save()
        return stage


class Stage:
    def __init__(self, report: Report, name: str):
        self.report, self.name = report, name
        self.figures: dict = {}
        self.failures: list[str] = []

    def put(self, key: str, value) -> None:
        self.figures[key] = value
        print(f"   {key}: {_text(value)}", flush=True)
        self.report.save()

    def check(self, what: str, ok: bool, detail: str = "") -> bool:
        self.figures.setdefault("checks", {})[what] = {"ok": bool(ok), "detail": detail}
        print(f"   {'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}", flush=True)
        if not ok:
            self.failures.append(what)
        self.report.save()
        return bool(ok)

    def left(self) -> float:
        return self.report.left()


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items())
    return str(value)


# --- stages that need no GPU ---------------------------------------------------------------

def environment(stage: Stage) -> None:
    stage.put("python", f"{platform.python_version()} ({sys.executable})")
    stage.put("torch", f"{torch.__version__}, built for CUDA {torch.version.cuda}")
    try:
        import triton

        stage.put("triton", f"{triton.__version__} ({Path(triton.__file__).parent})")
    except Exception as error:
        stage.check("triton imports", False, f"{type(error).__name__}: {error}")
    stage.put("pytest", "installed" if installed("pytest") else "not installed")
    absent = [m for m in ("psutil", "safetensors", "numpy", "pynvml", "tiktoken") if not installed(m)]
    stage.put("not installed (the check needs none of them)", ", ".join(absent) or "none")
    stage.put("C compiler (Triton builds its launcher with one)",
              next((cc for cc in ("cc", "gcc", "clang") if shutil.which(cc)), "none found"))
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        stage.put("gpu", f"{props.name}, sm_{props.major}{props.minor}, {props.total_memory / GiB:.1f} GiB, "
                         f"{props.multi_processor_count} SMs; {torch.cuda.device_count()} visible")
    else:
        stage.put("gpu", "none visible to torch")
    for module in ("core.engine.model", "core.engine.device_loop", "core.engine.cuda_graphs", "core.engine.testing",
                   "core.engine.memory_plan", "kernels.moe", "kernels.attention", "kernels.compile_check"):
        importlib.import_module(module)
    stage.check("the engine imports with torch and Triton alone", True)


def memory_plan(stage: Stage) -> None:
    from core.engine.config import GPT_OSS_20B, GPT_OSS_120B
    from core.engine.memory_plan import plan_memory

    for name, config in (("gpt-oss-20b", GPT_OSS_20B), ("gpt-oss-120b", GPT_OSS_120B)):
        for context in (8192, 32768, config.context_length):
            plan = plan_memory(config, context, "bfloat16", "triton")
            stage.put(f"{name} at {context} tokens (GiB)",
                      {"weights": plan.weights / GiB, "kv cache": plan.kv_cache / GiB,
                       "workspace": plan.workspace / GiB, "total": plan.total / GiB})


def capture_safe(stage: Stage) -> None:
    """A decode step on meta tensors (any host read raises) with its Triton launches recorded:
    the same kernels, grids and arguments at two positions, reading the cache's own buffers."""
    from functools import partial

    from core.engine.backends import Ops
    from core.engine.config import GPT_OSS_20B, GPT_OSS_120B
    from core.engine.cuda_graphs import DecodeStep
    from core.engine.kv_cache import KVCache
    from core.engine.testing import device_weights
    from core.engine.transformer import Transformer
    from kernels import _attention_triton, _moe_triton
    from kernels.moe import SWIGLU_ALPHA
    from kernels.target import Recorder

    meta = torch.device("meta")
    for name, config in (("gpt-oss-20b", GPT_OSS_20B), ("gpt-oss-120b", GPT_OSS_120B)):
        recorder = Recorder()
        ops = Ops(attention=partial(_attention_triton.attention, launch=recorder),
                  moe=lambda *a, r=recorder: _moe_triton.moe(*a, SWIGLU_ALPHA, launch=r), graph_safe=True)
        transformer = Transformer(config, device_weights(config, meta), ops, torch.bfloat16, meta)
        cache = KVCache(config, torch.bfloat16, meta, 32768, static=True)
        step = DecodeStep(transformer, cache)
        runs = []
        for position in (100, 30000):
            recorder.launches.clear()
            step(torch.empty(1, dtype=torch.int64, device=meta), position)
            runs.append([(launch.kernel, launch.grid, [a if not isinstance(a, torch.Tensor) else (a.shape, a.dtype)
                                                       for a in launch.args]) for launch in recorder.launches])
        stage.check(f"{name}: one decode step reads nothing back and launches the same at any position",
                    runs[0] == runs[1], f"{len(runs[0])} Triton launches per step")


# --- the Triton kernel cache ----------------------------------------------------------------

SHIPPED_CACHES = ("build/installer-cuda/triton-cache", "dist/linux-cuda/hearth/_internal/triton-cache")


class CacheBuild:
    """Fills a fresh Triton cache the way installer/build.sh does, in the background, while the
    GPU stages run: the launcher (where a C compiler is found) and every kernel compiled by
    kernels.compile_check, for this GPU's compute capability only (the installer: six)."""

    def __init__(self, folder: Path, capability: int):
        self.folder = folder
        env = {**os.environ, "TRITON_CACHE_DIR": str(folder), "PYTHONPATH": str(ROOT)}
        env.pop("TRITON_INTERPRET", None)
        script = ("import subprocess, sys\n"
                  "launcher = subprocess.run([sys.executable, 'installer/prebuild_triton_launcher.py', "
                  f"{str(folder)!r}], capture_output=True, text=True)\n"
                  "print('launcher:', 'pre-built' if launcher.returncode == 0 else "
                  "'not pre-built: ' + (launcher.stderr.strip().splitlines() or ['?'])[-1])\n"
                  "from kernels import compile_check\n"
                  f"sys.exit(max(compile_check.main(['--model', m, '--capabilities', '{capability}'])"
                  " for m in ('20b', '120b')))\n")
        self.started = time.perf_counter()
        self.process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)

    def finish(self, timeout: float) -> tuple[int, str, float]:
        try:
            out, _ = self.process.communicate(timeout=max(1.0, timeout))
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
            return -1, out, time.perf_counter() - self.started
        return self.process.returncode, out, time.perf_counter() - self.started


def cache_entries(folder: Path) -> dict[str, list[str]]:
    if not folder.is_dir():
        return {}
    return {d.name: sorted(f.name for f in d.iterdir()) for d in folder.iterdir() if d.is_dir()}


def kernel_cache(stage: Stage, build: CacheBuild | None) -> None:
    shipped = next((ROOT / p for p in [os.environ.get("HEARTH_TRITON_CACHE", ""), *SHIPPED_CACHES]
                    if p and (ROOT / p / "BUILD").is_file()), None)
    folder = Path(tempfile.mkdtemp(prefix="hearth-gpu-check-cache-")) / "triton-cache"
    if shipped is not None:
        shutil.copytree(shipped, folder)  # look-ups on a copy: a miss must not land in the shipped one
        stage.put("cache", f"shipped, found at {shipped} (build {(shipped / 'BUILD').read_text().strip()})")
        if build is not None:
            build.process.kill()
    elif build is None:
        stage.check("a Triton cache to look in", False, "none shipped and none could be built")
        return
    else:
        folder = build.folder
        code, out, seconds = build.finish(min(240.0, stage.left() - 40))
        stage.put("cache", f"none shipped with this copy (looked for {', '.join(SHIPPED_CACHES)}); built one as "
                           f"installer/build.sh does, in {seconds:.0f} s, at {folder}")
        for line in out.splitlines():
            if line.startswith("launcher:") or "compiled," in line:
                stage.put("build", line)
        if not stage.check("kernels.compile_check compiled every kernel for this GPU", code == 0,
                           f"exit {code}" + ("" if code == 0 else ": " + " | ".join(out.splitlines()[-6:]))):
            return
    before = cache_entries(folder)
    env = {**os.environ, "TRITON_CACHE_DIR": str(folder)}
    env.pop("TRITON_INTERPRET", None)
    probe = subprocess.run([sys.executable, str(Path(__file__)), "--probe-cache"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=max(10.0, stage.left() - 5))
    stage.put("probe", (probe.stdout.strip().splitlines() or ["no output"])[-1])
    if not stage.check("the engine's launches run from that cache", probe.returncode == 0,
                       "" if probe.returncode == 0 else probe.stderr.strip()[-1500:]):
        return
    new = {k: v for k, v in cache_entries(folder).items() if k not in before}
    kernels = [k for k, files in new.items() if any(f.endswith(".cubin") for f in files)]
    launchers = [f for files in new.values() for f in files if f.endswith(".so")]
    stage.put("cache entries", f"{len(before)} before the probe, {len(new)} added")
    stage.check("every kernel found in the cache: nothing compiled on first use", not kernels,
                f"{len(kernels)} kernels compiled anew" + (f": {', '.join(kernels[:4])}" if kernels else ""))
    stage.check("the CUDA launcher found in the cache: no C compiler needed", not launchers,
                f"built on first use: {', '.join(launchers)}" if launchers else "")


def probe_cache() -> int:
    """(run in a subprocess, TRITON_CACHE_DIR set) Every launch kernels.compile_check compiles,
    run for real on zero-filled tensors of the same shapes: a cache miss compiles into the cache."""
    from kernels.compile_check import SHAPES, engine_launches

    count = 0
    for shape in SHAPES.values():
        for _label, launch in engine_launches(shape):
            args = [torch.zeros(a.shape, dtype=a.dtype, device="cuda") if isinstance(a, torch.Tensor) else a
                    for a in launch.args]
            launch.kernel[launch.grid](*args, **launch.constexprs)
            count += 1
    torch.cuda.synchronize()
    print(f"{count} launches (both models) ran on the GPU")
    return 0


# --- pytest, where installed -----------------------------------------------------------------

# test_cuda_graphs.py is the "capture-safe" stage's (it would need numpy, for Triton's interpreter).
PYTEST_FILES = ("tests/core/engine/test_device_loop.py", "tests/core/engine/test_sampling.py")


def run_pytest(stage: Stage) -> None:
    if not installed("pytest"):
        stage.put("pytest", "not installed: skipped (the stages above ran the same checks)")
        return
    # No conftest: the suite's fixtures need packages this machine may lack; these files need none.
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "--noconftest", "-p", "no:cacheprovider",
                             *PYTEST_FILES], cwd=ROOT, capture_output=True, text=True,
                            timeout=max(10.0, stage.left() - 5), env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines = result.stdout.strip().splitlines() or ["no output"]
    stage.check("the device loop and sampler tests, on CUDA too", result.returncode == 0,
                lines[-1] if result.returncode == 0 else "\n".join(lines[-25:]))


# --- the run ---------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_file", nargs="?", type=Path)
    parser.add_argument("--budget", type=float, default=BUDGET, help="seconds for the whole run")
    parser.add_argument("--probe-cache", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe_cache:
        return probe_cache()
    if args.out_file is None:
        parser.error("give the file to write the figures to")
    report = Report(args.out_file, args.budget)
    report.run("environment", environment)
    report.run("memory plan", memory_plan)
    report.run("capture-safe", capture_safe)
    gpu = torch.cuda.is_available()
    if gpu:
        gpu_stages(report)
    else:
        report.data["gpu"] = NO_GPU
        print(NO_GPU, flush=True)
    stages = report.data["stages"]
    failed = [name for name, s in stages.items() if s.get("status") == "failed"]
    skipped = [name for name, s in stages.items() if s.get("status") == "skipped"]
    report.data["summary"] = {"failed": failed, "skipped": skipped,
                              "passed": [n for n in stages if n not in failed and n not in skipped],
                              "seconds": round(time.perf_counter() - report.started, 1)}
    report.save()
    print(f"== summary: {len(stages) - len(failed) - len(skipped)} stages passed, failed: {', '.join(failed) or 'none'}"
          f", skipped: {', '.join(skipped) or 'none'}; figures in {args.out_file}", flush=True)
    if gpu and not failed and not skipped:
        print("Every check passed on this GPU: CUDA-graph decode (HEARTH_CUDA_GRAPHS=1) can be considered for "
              "switching on, with these figures.", flush=True)
    return 1 if failed else 0


def gpu_stages(report: Report) -> None:
    from kernels.target import MIN_CAPABILITY

    try:
        import gpu_check_kernels
        import gpu_check_model
    except Exception as error:  # reported like a stage, so the summary and the file still come
        why = f"{type(error).__name__}: {error}"
        report.run("gpu stages", lambda s: s.check("bench/gpu_check_kernels.py and gpu_check_model.py import",
                                                   False, why))
        return

    major, minor = torch.cuda.get_device_capability(0)
    capability = 10 * major + minor
    triton_ok = capability >= MIN_CAPABILITY and installed("triton")
    build = None
    if triton_ok:
        build = CacheBuild(Path(tempfile.mkdtemp(prefix="hearth-gpu-check-")) / "triton-cache", capability)
    try:
        if triton_ok:
            report.run("kernels", gpu_check_kernels.check_kernels, needs=40)
        else:
            report.run("kernels", lambda s: s.check("Triton kernels can run here", False,
                                                    f"sm_{capability} (they need sm_{MIN_CAPABILITY}+) or no Triton"))
        report.run("tiny model", lambda s: gpu_check_model.tiny_model(s, triton_ok), needs=30)
        report.run("kernel cache", lambda s: kernel_cache(s, build), needs=40)
        report.run(gpu_check_model.BANDWIDTH_STAGE, gpu_check_model.bandwidth)
        for name in ("gpt-oss-20b", "gpt-oss-120b"):
            report.run(name, lambda s, n=name: gpu_check_model.full_model(s, n, triton_ok), needs=60)
        report.run("pytest", run_pytest, needs=30)
    finally:
        if build is not None and build.process.poll() is None:
            build.process.kill()  # skipped for time: no compiler left running after the check


if __name__ == "__main__":
    sys.exit(main())
