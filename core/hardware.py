"""What this machine has (GPUs, CPU, RAM, disk) and which model fits it, with the numbers.

    detect_hardware(models_dir=None) -> Hardware
    plan_fit(model, hardware, context_length=8192) -> FitPlan
    recommend(hardware, context_length=8192) -> Recommendation

`model` is a catalogue id, a config.json dict (either published format) or any object with the
same attribute names (e.g. core.config.ModelConfig). The planners take a `Hardware` value
rather than probing, so tests and the GUI's "what if" views can describe any machine.

Memory needed = weights (MXFP4 experts stay packed: 4.25 bits a weight; everything else bf16)
+ KV cache (bf16 k and v, 8 kv heads x 64 dims; sliding layers keep only the last 128
positions, full layers keep the whole context) + overhead (runtime, activations, allocator).
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

from core import catalogue
from core.errors import InvalidInput

GIB = 1024**3
MXFP4_BYTES_PER_WEIGHT = 4.25 / 8
BF16 = 2
# Beyond weights and cache: CUDA context and kernels' workspace on a GPU; the interpreter,
# torch and the operating system's share on the CPU.
GPU_OVERHEAD_BYTES = int(1.5 * GIB)
CPU_OVERHEAD_BYTES = int(2.0 * GIB)
# The machine classes the recommendation names (decimal GB as vendors sell them, less what
# drivers report as reserved: an "80 GB" card shows ~79.2 GiB, a "16 GB" one ~15.6 GiB).
GPU_80GB = 75 * GIB
GPU_16GB = 15 * GIB
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
    )


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
        from core.model_store import default_models_dir

        models_dir = default_models_dir()
    path = Path(models_dir)
    # The folder may not exist yet: measure the nearest existing parent, on the same disk.
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


# -- memory arithmetic ---------------------------------------------------------------------

def _get(model, key: str, *alternatives: str, default=None):
    for k in (key, *alternatives):
        value = model.get(k) if isinstance(model, dict) else getattr(model, k, None)
        if value is not None:
            return value
    return default


def _describe(model) -> tuple[str, dict]:
    if isinstance(model, str):
        model = catalogue.entry(model)
    if isinstance(model, catalogue.CatalogueEntry):
        return model.id, model.__dict__
    name = _get(model, "name", default=None)
    shape = {k: _get(model, k, *alts) for k, *alts in (
        ("num_hidden_layers",), ("num_local_experts", "num_experts"), ("hidden_size",),
        ("intermediate_size",), ("num_attention_heads",), ("num_key_value_heads",), ("head_dim",),
        ("vocab_size",), ("sliding_window",), ("layer_types",), ("max_position_embeddings",),
    )}
    found = catalogue.entry_for_config(shape)
    return name or (found.id if found else "this model"), shape


def weights_bytes(shape: dict) -> int:
    """Bytes of the weights as the engine holds them: experts packed MXFP4, the rest bf16."""
    D = shape["hidden_size"]
    E = shape["num_local_experts"]
    inner = shape["intermediate_size"]
    q = shape["num_attention_heads"] * shape["head_dim"]
    kv = shape["num_key_value_heads"] * shape["head_dim"]
    attention = (D * q + q) + 2 * (D * kv + kv) + (q * D + D) + shape["num_attention_heads"]
    router = E * D + E
    norms = 2 * D
    expert_biases = E * (2 * inner + D)
    dense_per_layer = attention + router + norms + expert_biases
    experts_per_layer = E * (D * 2 * inner + inner * D)
    layers = shape["num_hidden_layers"]
    embeddings = 2 * shape["vocab_size"] * D + D  # embedding and the untied lm_head, final norm
    dense = layers * dense_per_layer + embeddings
    return int(dense * BF16 + layers * experts_per_layer * MXFP4_BYTES_PER_WEIGHT)


def kv_cache_bytes(shape: dict, context_length: int) -> int:
    """bf16 k + v for every layer; sliding-window layers never hold more than the window."""
    per_position = 2 * shape["num_key_value_heads"] * shape["head_dim"] * BF16
    layers = shape["num_hidden_layers"]
    types = shape.get("layer_types") or [
        "sliding_attention" if i % 2 == 0 else "full_attention" for i in range(layers)
    ]
    window = shape["sliding_window"]
    positions = sum(min(context_length, window) if t == "sliding_attention" else context_length for t in types)
    return positions * per_position


# -- planning ------------------------------------------------------------------------------

def plan_fit(model, hardware: Hardware, context_length: int = 8192) -> FitPlan:
    """Where `model` can run on `hardware` with `context_length` tokens, and why."""
    name, shape = _describe(model)
    longest = shape.get("max_position_embeddings") or 131072
    if not 1 <= context_length <= longest:
        raise InvalidInput(f"The context length must be between 1 and {longest} tokens, not {context_length}.")
    weights = weights_bytes(shape)
    cache = kv_cache_bytes(shape, context_length)
    common = dict(model=name, context_length=context_length, weights_bytes=weights, kv_cache_bytes=cache)
    gpu = max(hardware.gpus, key=lambda g: g.free_bytes, default=None)
    if gpu is not None:
        need = weights + cache + GPU_OVERHEAD_BYTES
        if need <= gpu.free_bytes:
            return FitPlan(
                **common, overhead_bytes=GPU_OVERHEAD_BYTES, needed_bytes=need, verdict="gpu",
                device=f"cuda:{gpu.index}", available_bytes=gpu.free_bytes,
                reason=f"{name} needs {_gib(need)} and the {gpu.name} has {_gib(gpu.free_bytes)} free: "
                "it runs on the graphics card.",
            )
    need = weights + cache + CPU_OVERHEAD_BYTES
    ram = hardware.ram_available_bytes
    gpu_note = (
        f" The {gpu.name} has {_gib(gpu.free_bytes)} free, not the {_gib(weights + cache + GPU_OVERHEAD_BYTES)} "
        "it would need." if gpu else " There is no NVIDIA graphics card to run it faster."
    )
    if need <= ram:
        return FitPlan(
            **common, overhead_bytes=CPU_OVERHEAD_BYTES, needed_bytes=need, verdict="cpu-slow",
            device="cpu", available_bytes=ram,
            reason=f"{name} needs {_gib(need)} of memory and {_gib(ram)} is free: it runs on the processor, "
            f"but slowly (expect a few words a second at best).{gpu_note}",
        )
    closing = (
        f" Closing other programs would help: the computer has {_gib(hardware.ram_total_bytes)} in all."
        if need <= hardware.ram_total_bytes else ""
    )
    shorter = ""
    if cache > GIB:
        shorter = " A shorter context length needs less."
    return FitPlan(
        **common, overhead_bytes=CPU_OVERHEAD_BYTES, needed_bytes=need, verdict="does-not-fit", device=None,
        available_bytes=max(ram, gpu.free_bytes if gpu else 0),
        reason=f"{name} needs {_gib(need)} of memory but only {_gib(ram)} is free.{gpu_note}{closing}{shorter}",
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


def _gib(n: int) -> str:
    return f"{n / GIB:.1f} GiB"
