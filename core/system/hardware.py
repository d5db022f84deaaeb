"""What this machine has (GPUs, CPU, RAM, disk) and which model fits it, with the numbers.

    detect_hardware(models_dir=None) -> Hardware
    plan_fit(model, hardware, context_length=8192) -> FitPlan
    recommend(hardware, context_length=8192) -> Recommendation

`model` is a catalogue id, a `catalogue.CatalogueEntry`, a `core.engine.config.ModelConfig` or a
config.json dict (either published format). The planners take a `Hardware` value rather than
probing, so tests and the GUI's "what if" views can describe any machine.

Memory needed = weights + KV cache + overhead (workspace + reserve), each counted by
core.engine.memory_plan, the same arithmetic the engine uses when it loads a model onto a card.
The engine runs a model on one device, so plans consider the GPU with the most free memory
(not the sum of several cards). NVIDIA GPUs are read through NVML (`nvidia-ml-py`), falling
back to torch.cuda; a machine with no GPU, no driver or a failing NVML is a normal machine
with no GPU.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path

from core.engine import catalogue, memory_plan
from core.engine.config import ModelConfig, config_from_dict
from core.errors import InvalidInput
from core.units import GIB, size_text

DTYPE = "bfloat16"  # the engine's default compute dtype on either device
# The engine's reserve on a card, plus the CUDA context it does not count: NVML reads the card
# before torch has made one.
GPU_RESERVE = memory_plan.RESERVE + memory_plan.CUDA_CONTEXT
# On the processor, beyond the model's tensors and scratch: the interpreter, torch and Qt
# (~0.3 GiB resident) and freed scratch the C allocator keeps, with room left so that filling
# the last of the free memory does not push the memory-mapped weights out to disk.
CPU_RESERVE = GIB
MIN_TRITON_CAPABILITY = (8, 0)  # kernels.target.MIN_CAPABILITY: older cards run the torch backend
# The machine classes the recommendation names (decimal GB as vendors sell them, less what
# drivers report as reserved: an "80 GB" card shows ~79.2 GiB, a "16 GB" one ~15.6 GiB).
GPU_80GB = 75 * GIB
CPU_ISA_FLAGS = ("avx", "avx2", "fma", "f16c", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile",
                 "neon", "asimd", "sve")


@dataclass(frozen=True)
class GPU:
    index: int
    name: str
    total_bytes: int
    free_bytes: int
    compute_capability: tuple[int, int] | None
    driver: str | None


@dataclass(frozen=True)
class CPU:
    name: str
    physical_cores: int
    logical_cores: int
    flags: tuple[str, ...]  # the instruction sets that matter for inference, of CPU_ISA_FLAGS
    kernels: str = ""       # which processor path the engine runs, as a sentence (kernels._cpu.describe)


@dataclass(frozen=True)
class Hardware:
    gpus: tuple[GPU, ...]
    cpu: CPU
    ram_total_bytes: int
    ram_available_bytes: int
    disk_free_bytes: int | None  # in the models directory
    notes: tuple[str, ...] = ()  # why GPU detection found nothing, when it did not just find none


@dataclass(frozen=True)
class FitPlan:
    model: str
    context_length: int
    weights_bytes: int
    kv_cache_bytes: int
    overhead_bytes: int
    needed_bytes: int
    verdict: str  # "gpu", "cpu-slow" or "does-not-fit"
    device: str | None  # "cuda:N", "cpu", or None
    available_bytes: int  # on the chosen device, or the best one when nothing fits
    reason: str  # one or two sentences with the numbers

    @property
    def fits(self) -> bool:
        return self.verdict != "does-not-fit"


@dataclass(frozen=True)
class Recommendation:
    model: str | None  # catalogue id, or None when the machine is too small for any
    plan: FitPlan | None
    message: str


# -- detection -----------------------------------------------------------------------------

def detect_hardware(models_dir: str | os.PathLike | None = None) -> Hardware:
    import psutil

    notes: list[str] = []
    gpus = _nvml_gpus(notes)
    if gpus is None:
        gpus = _torch_gpus(notes)
    memory = psutil.virtual_memory()
    return Hardware(
        gpus=tuple(gpus),
        cpu=detect_cpu(),
        ram_total_bytes=memory.total,
        ram_available_bytes=memory.available,
        disk_free_bytes=_disk_free(models_dir),
        notes=tuple(notes),
    )


def _nvml_gpus(notes: list[str]) -> list[GPU] | None:
    """GPUs through NVML; None when NVML cannot be used (then torch.cuda is asked)."""
    try:
        import pynvml
    except ImportError:
        notes.append("NVIDIA's monitoring library (nvidia-ml-py) is not installed.")
        return None
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as e:
        # No driver is the common case on machines without an NVIDIA card: not worth a note.
        if not isinstance(e, pynvml.NVMLError_LibraryNotFound):
            notes.append(f"The NVIDIA driver did not answer ({e}).")
        return None
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        gpus = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            try:
                capability = tuple(pynvml.nvmlDeviceGetCudaComputeCapability(handle))
            except pynvml.NVMLError:
                capability = None
            gpus.append(GPU(i, _text(pynvml.nvmlDeviceGetName(handle)), int(memory.total), int(memory.free),
                            capability, driver))
        return gpus
    except pynvml.NVMLError as e:
        notes.append(f"Reading the NVIDIA cards failed ({e}).")
        return None
    finally:
        with contextlib.suppress(pynvml.NVMLError):
            pynvml.nvmlShutdown()


def _torch_gpus(notes: list[str]) -> list[GPU]:
    try:
        import torch

        if not torch.cuda.is_available():
            return []
        gpus = []
        for i in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(i)
            free, total = torch.cuda.mem_get_info(i)
            gpus.append(GPU(i, props.name, int(total), int(free), (props.major, props.minor), None))
        return gpus
    except Exception as e:  # a broken CUDA install must not stop the app from starting
        notes.append(f"PyTorch could not read the graphics cards ({e}).")
        return []


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def detect_cpu() -> CPU:
    import psutil

    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name":
                    name = value.strip()
                elif key in ("flags", "Features"):
                    flags.update(value.split())
    except OSError:
        # Not Linux: torch knows the widest vector unit its kernels use, which is what matters.
        flags.update(_TORCH_CAPABILITY_FLAGS.get(_torch_cpu_capability(), ()))
    if platform.machine().lower() in ("arm64", "aarch64"):
        flags.add("neon")
    return CPU(
        name=name,
        physical_cores=psutil.cpu_count(logical=False) or os.cpu_count() or 1,
        logical_cores=psutil.cpu_count(logical=True) or os.cpu_count() or 1,
        flags=tuple(f for f in CPU_ISA_FLAGS if f in flags),
        kernels=_cpu_path(),
    )


def _cpu_path() -> str:
    try:
        from kernels import _cpu  # loads torch: only when hardware is detected, never at import

        return _cpu.describe()
    except Exception as error:  # a broken install must not stop detection
        return f"Processor path: unknown ({error})."


_TORCH_CAPABILITY_FLAGS = {"AVX2": ("avx", "avx2", "fma"), "AVX512": ("avx", "avx2", "fma", "avx512f"),
                           "SVE256": ("sve",)}


def _torch_cpu_capability() -> str:
    try:
        import torch

        return torch.backends.cpu.get_cpu_capability()
    except Exception:  # an old or broken torch must not stop detection
        return "DEFAULT"


def _disk_free(models_dir) -> int | None:
    if models_dir is None:
        from core.system.environment import default_models_dir

        models_dir = default_models_dir()
    path = Path(models_dir)
    # The folder may not exist yet: measure the nearest existing parent, on the same disk.
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


# -- planning ------------------------------------------------------------------------------

def _describe(model) -> tuple[str, ModelConfig]:
    """The name to show for `model` and its shape."""
    if isinstance(model, str):
        model = catalogue.entry(model)
    if isinstance(model, catalogue.CatalogueEntry):
        return model.id, model.config
    if isinstance(model, dict):
        model = config_from_dict(model)
    if not isinstance(model, ModelConfig):
        raise TypeError(f"plan_fit needs a catalogue id, CatalogueEntry, ModelConfig or config.json dict, "
                        f"not {type(model).__name__}")
    found = catalogue.entry_for_config(model)
    return (found.id if found else "this model"), model


def _gpu_backend(gpu: GPU) -> str:
    # An unknown capability is planned as the torch backend, whose scratch is the larger.
    if gpu.compute_capability is not None and tuple(gpu.compute_capability) >= MIN_TRITON_CAPABILITY:
        return "triton"
    return "torch"


def plan_fit(model, hardware: Hardware, context_length: int = 8192) -> FitPlan:
    """Where `model` can run on `hardware` with `context_length` tokens, and why."""
    name, config = _describe(model)
    longest = config.context_length
    if not 1 <= context_length <= longest:
        raise InvalidInput(f"The context length must be between 1 and {longest} tokens, not {context_length}.")
    gpu = max(hardware.gpus, key=lambda g: g.free_bytes, default=None)
    on_gpu = None
    if gpu is not None:
        # CUDA: the cache is allocated at its full size up front (core.engine.kv_cache's static layout).
        on_gpu = memory_plan.plan_memory(config, context_length, DTYPE, _gpu_backend(gpu), static_cache=True,
                                         reserve=GPU_RESERVE)
        if on_gpu.total <= gpu.free_bytes:
            return _plan(
                name, on_gpu, "gpu", f"cuda:{gpu.index}", gpu.free_bytes,
                f"{name} needs {size_text(on_gpu.total)} and the {gpu.name} has {size_text(gpu.free_bytes)} free: "
                "it runs on the graphics card.",
            )
    # The processor's cache grows by doubling (core.engine.kv_cache's growing layout): for a moment a
    # full layer's old buffer is alive beside the new one, while that step's scratch is too.
    # Counted (static_cache=False adds it to the workspace): it is small, 64.5 MiB at 131,072
    # tokens, but leaving it out would pass a machine at the edge that then runs out mid-answer.
    on_cpu = memory_plan.plan_memory(config, context_length, DTYPE, "torch", static_cache=False,
                                     reserve=CPU_RESERVE)
    need = on_cpu.total
    ram = hardware.ram_available_bytes
    gpu_note = (
        f" The {gpu.name} has {size_text(gpu.free_bytes)} free, not the {size_text(on_gpu.total)} it would need."
        if gpu else " There is no NVIDIA graphics card to run it faster."
    )
    if need <= ram:
        return _plan(
            name, on_cpu, "cpu-slow", "cpu", ram,
            f"{name} needs {size_text(need)} of memory and {size_text(ram)} is free: it runs on the processor, "
            f"but slowly (expect a few words a second at best).{gpu_note}",
        )
    closing = (
        f" Closing other programs would help: the computer has {size_text(hardware.ram_total_bytes)} in all."
        if need <= hardware.ram_total_bytes else ""
    )
    shorter = ""
    if on_cpu.kv_cache > GIB:
        shorter = " A shorter context length needs less."
    return _plan(
        name, on_cpu, "does-not-fit", None, max(ram, gpu.free_bytes if gpu else 0),
        f"{name} needs {size_text(need)} of memory but only {size_text(ram)} is free.{gpu_note}{closing}{shorter}",
    )


def _plan(name: str, plan: memory_plan.MemoryPlan, verdict: str, device: str | None, available: int,
          reason: str) -> FitPlan:
    return FitPlan(
        model=name, context_length=plan.context_length, weights_bytes=plan.weights, kv_cache_bytes=plan.kv_cache,
        overhead_bytes=plan.overhead, needed_bytes=plan.total, verdict=verdict, device=device,
        available_bytes=available, reason=reason,
    )


def recommend(hardware: Hardware, context_length: int = 8192) -> Recommendation:
    """The model this machine should use: 120b on an 80 GB card, 20b on a 16 GB card, 20b on
    the processor (slow) when the memory allows, otherwise an honest "too small"."""
    big = max(hardware.gpus, key=lambda g: g.total_bytes, default=None)
    plans = {m: plan_fit(m, hardware, context_length) for m in ("gpt-oss-120b", "gpt-oss-20b")}
    if big is not None and big.total_bytes >= GPU_80GB and plans["gpt-oss-120b"].verdict == "gpu":
        return Recommendation("gpt-oss-120b", plans["gpt-oss-120b"],
                              f"gpt-oss-120b: your {big.name} can run the larger model.")
    small = plans["gpt-oss-20b"]
    if small.verdict == "gpu":
        return Recommendation("gpt-oss-20b", small, f"gpt-oss-20b on the graphics card. {small.reason}")
    if small.verdict == "cpu-slow":
        return Recommendation("gpt-oss-20b", small, f"gpt-oss-20b on the processor. {small.reason}")
    return Recommendation(None, small, f"This computer is too small for gpt-oss. {small.reason}")


def choose_device(config: ModelConfig, context_length: int = 8192) -> str:
    """The device `--device auto` (and the window) runs a model of this shape on: the fit
    planner's choice, the processor when nothing fits (loading then says why)."""
    hardware = detect_hardware()
    context_length = min(context_length, config.context_length)
    return plan_fit(config, hardware, context_length).device or "cpu"
