"""Hardware detection (real, and with a simulated NVML) and the fit planner on simulated machines."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from core.engine import catalogue, memory_plan
from core.engine.config import GPT_OSS_20B, GPT_OSS_120B, ModelConfig
from core.engine.testing import tiny_config
from core.errors import InvalidInput
from core.system import hardware
from core.system.hardware import CPU, GIB, GPU, Hardware, detect_hardware, plan_fit, recommend

CPU_8 = CPU("Test CPU", 8, 16, ("avx2", "fma"))


def machine(gpus=(), ram_total=64, ram_free=None):
    """A simulated machine; memory sizes in GiB. GPUs as (name, total GiB, free GiB)."""
    return Hardware(
        gpus=tuple(GPU(i, name, int(total * GIB), int(free * GIB), (9, 0), "575.0")
                   for i, (name, total, free) in enumerate(gpus)),
        cpu=CPU_8,
        ram_total_bytes=int(ram_total * GIB),
        ram_available_bytes=int((ram_free if ram_free is not None else ram_total * 0.8) * GIB),
        disk_free_bytes=500 * GIB,
    )


H100 = ("NVIDIA H100 80GB HBM3", 79.6, 79.0)
RTX_4090 = ("NVIDIA GeForce RTX 4090", 23.6, 23.0)
RTX_4080 = ("NVIDIA GeForce RTX 4080", 15.6, 15.2)
RTX_3060 = ("NVIDIA GeForce RTX 3060", 11.7, 11.2)


def test_weights_match_the_published_checkpoint_sizes():
    # Spec §1: ~12.8 GiB and ~60.8 GiB on disk, and the engine keeps the experts packed.
    assert plan_fit("gpt-oss-20b", machine()).weights_bytes / GIB == pytest.approx(12.8, abs=0.05)
    assert plan_fit("gpt-oss-120b", machine()).weights_bytes / GIB == pytest.approx(60.8, abs=0.05)


def test_kv_cache_sliding_layers_stop_at_the_window():
    per_layer_position = 2 * 8 * 64 * 2 + 8  # k and v, 8 kv heads, 64 dims, bf16; an int64 position

    def kv(context):
        return plan_fit("gpt-oss-20b", machine(), context).kv_cache_bytes

    assert kv(1) == 24 * per_layer_position
    assert kv(128) == 24 * 128 * per_layer_position
    assert kv(1000) == (12 * 128 + 12 * 1000) * per_layer_position
    assert kv(131072) == (12 * 128 + 12 * 131072) * per_layer_position


def test_plan_reads_configs_in_either_form():
    by_id = plan_fit("gpt-oss-20b", machine(), 4096)
    hf = {"num_hidden_layers": 24, "num_local_experts": 32, "hidden_size": 2880, "intermediate_size": 2880,
          "num_attention_heads": 64, "num_key_value_heads": 8, "head_dim": 64, "vocab_size": 201088,
          "sliding_window": 128}
    original = {**{k: v for k, v in hf.items() if k != "num_local_experts"}, "num_experts": 32}
    for config in (hf, original, ModelConfig(), catalogue.entry("gpt-oss-20b")):
        plan = plan_fit(config, machine(), 4096)
        assert plan.model == "gpt-oss-20b"
        assert (plan.weights_bytes, plan.kv_cache_bytes) == (by_id.weights_bytes, by_id.kv_cache_bytes)
    tiny = plan_fit(tiny_config(), machine(), 100)
    assert tiny.model == "this model" and tiny.weights_bytes < 400_000


@pytest.mark.parametrize("config", [GPT_OSS_20B, GPT_OSS_120B])
@pytest.mark.parametrize("context", [4096, 131072])
def test_the_plan_is_the_engines_memory_plan(config, context):
    # The card's figure is what load_model plans, plus the CUDA context NVML's free memory
    # still includes; the processor's adds the growing cache's moment of doubling.
    card = memory_plan.plan_memory(config, context, "bfloat16", "triton")
    on_gpu = plan_fit(config, machine([H100], ram_total=256), context)
    assert on_gpu.verdict == "gpu"
    assert (on_gpu.weights_bytes, on_gpu.kv_cache_bytes) == (card.weights, card.kv_cache)
    assert on_gpu.overhead_bytes == card.workspace + card.reserve + memory_plan.CUDA_CONTEXT
    assert on_gpu.needed_bytes == card.total + memory_plan.CUDA_CONTEXT
    on_cpu = plan_fit(config, machine(ram_total=256), context)
    assert on_cpu.verdict == "cpu-slow" and on_cpu.kv_cache_bytes == card.kv_cache
    scratch = (memory_plan.workspace_bytes(config, context, "bfloat16", "torch")
               + memory_plan.kv_growth_bytes(config, context, "bfloat16"))
    assert on_cpu.overhead_bytes == scratch + hardware.CPU_RESERVE
    assert on_cpu.needed_bytes == on_cpu.weights_bytes + on_cpu.kv_cache_bytes + on_cpu.overhead_bytes


def test_cards_older_than_ampere_are_planned_with_the_torch_backend():
    def card(capability):
        gpu = GPU(0, "NVIDIA Card", int(15.6 * GIB), int(15.2 * GIB), capability, None)
        return plan_fit("gpt-oss-20b", Hardware((gpu,), CPU_8, 64 * GIB, 48 * GIB, None), 8192).overhead_bytes

    triton, torch = (memory_plan.workspace_bytes(GPT_OSS_20B, 8192, "bfloat16", backend) + hardware.GPU_RESERVE
                     for backend in ("triton", "torch"))
    assert card((8, 9)) == card((8, 0)) == triton
    assert card((7, 5)) == card(None) == torch > triton  # an unknown card: the larger scratch


def test_planning_does_not_import_torch():
    # `hearth hardware` answers at once; importing torch would take seconds.
    code = ("import sys; from core.system.hardware import CPU, Hardware, plan_fit; "
            "plan_fit('gpt-oss-120b', Hardware((), CPU('x', 1, 1, ()), 1, 1, None), 8192); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_80gb_card_gets_120b():
    rec = recommend(machine([H100], ram_total=256))
    assert rec.model == "gpt-oss-120b" and rec.plan.verdict == "gpu" and rec.plan.device == "cuda:0"
    assert rec.plan.needed_bytes == rec.plan.weights_bytes + rec.plan.kv_cache_bytes + rec.plan.overhead_bytes


@pytest.mark.parametrize("card", [RTX_4090, RTX_4080])
def test_16gb_and_24gb_cards_get_20b_on_the_gpu(card):
    hw = machine([card], ram_total=32)
    rec = recommend(hw)
    assert rec.model == "gpt-oss-20b" and rec.plan.verdict == "gpu"
    big = plan_fit("gpt-oss-120b", hw)
    assert big.verdict == "does-not-fit" and "not the" in big.reason


def test_full_context_on_a_16gb_card_falls_back_to_the_cpu_with_numbers():
    hw = machine([RTX_4080], ram_total=64, ram_free=40)
    assert plan_fit("gpt-oss-20b", hw, 8192).verdict == "gpu"
    plan = plan_fit("gpt-oss-20b", hw, 131072)
    assert plan.verdict == "cpu-slow" and plan.device == "cpu"
    assert plan.kv_cache_bytes / GIB == pytest.approx(3.015, abs=0.001)  # k, v and positions
    assert "RTX 4080 has 15.2 GiB free" in plan.reason and "slowly" in plan.reason


def test_no_gpu_with_enough_ram_runs_20b_slowly():
    rec = recommend(machine(ram_total=32, ram_free=24))
    assert rec.model == "gpt-oss-20b" and rec.plan.verdict == "cpu-slow"
    assert "slowly" in rec.message and "no NVIDIA graphics card" in rec.message


def test_small_gpu_and_small_ram_is_too_small():
    rec = recommend(machine([RTX_3060], ram_total=8, ram_free=6))
    assert rec.model is None and rec.plan.verdict == "does-not-fit"
    assert rec.message.startswith("This computer is too small for gpt-oss.")
    assert "needs 14.9 GiB" in rec.message and "only 6.0 GiB is free" in rec.message
    assert "RTX 3060 has 11.2 GiB free, not the 14.1 GiB it would need" in rec.message


def test_busy_machine_is_told_that_closing_programs_helps():
    plan = plan_fit("gpt-oss-20b", machine(ram_total=20, ram_free=10))
    assert plan.verdict == "does-not-fit" and "Closing other programs would help" in plan.reason


def test_long_context_suggests_a_shorter_one():
    plan = plan_fit("gpt-oss-120b", machine(ram_total=64, ram_free=60), 131072)
    assert plan.verdict == "does-not-fit" and "shorter context" in plan.reason


def test_detect_this_machine(tmp_path):
    hw = detect_hardware(tmp_path / "not-yet-created")
    assert hw.cpu.logical_cores >= 1 and hw.ram_total_bytes >= hw.ram_available_bytes > 0
    assert hw.disk_free_bytes and hw.disk_free_bytes > 0
    assert all(isinstance(g, GPU) for g in hw.gpus)


def fake_nvml(init_error=None, devices=()):
    class NVMLError(Exception):
        pass

    class NVMLError_LibraryNotFound(NVMLError):
        pass

    def init():
        if init_error:
            raise {"missing": NVMLError_LibraryNotFound, "driver": NVMLError}[init_error]("Driver Not Loaded")

    return types.SimpleNamespace(
        NVMLError=NVMLError, NVMLError_LibraryNotFound=NVMLError_LibraryNotFound,
        nvmlInit=init, nvmlShutdown=lambda: None,
        nvmlSystemGetDriverVersion=lambda: b"575.51",
        nvmlDeviceGetCount=lambda: len(devices),
        nvmlDeviceGetHandleByIndex=lambda i: devices[i],
        nvmlDeviceGetName=lambda d: d["name"],
        nvmlDeviceGetMemoryInfo=lambda d: types.SimpleNamespace(total=d["total"], free=d["free"]),
        nvmlDeviceGetCudaComputeCapability=lambda d: (8, 9),
    )


def test_gpus_through_nvml(monkeypatch, tmp_path):
    devices = [{"name": "NVIDIA GeForce RTX 4090", "total": 24 * GIB, "free": 23 * GIB}]
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(devices=devices))
    (gpu,) = detect_hardware(tmp_path).gpus
    assert gpu == GPU(0, "NVIDIA GeForce RTX 4090", 24 * GIB, 23 * GIB, (8, 9), "575.51")


@pytest.mark.parametrize(("error", "noted"), [("missing", False), ("driver", True)])
def test_nvml_failures_mean_no_gpu_not_a_crash(monkeypatch, tmp_path, error, noted):
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(init_error=error))
    hw = detect_hardware(tmp_path)
    assert hw.gpus == ()  # and torch.cuda, asked next, has none on this machine either
    assert any("driver did not answer" in n for n in hw.notes) is noted


@pytest.mark.parametrize("context", [0, 131073])
def test_context_length_outside_what_the_model_supports(context):
    with pytest.raises(InvalidInput, match="between 1 and 131072 tokens"):
        plan_fit("gpt-oss-20b", machine(), context)


def test_cpu_flags_without_proc_cpuinfo(monkeypatch):
    import builtins

    real_open = builtins.open

    def no_proc(path, *args, **kwargs):
        if str(path) == "/proc/cpuinfo":
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", no_proc)
    monkeypatch.setattr(hardware, "_torch_cpu_capability", lambda: "AVX512")
    assert {"avx2", "avx512f"} <= set(hardware.detect_cpu().flags)
