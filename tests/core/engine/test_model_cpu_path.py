"""The engine without its compiled CPU kernels: the torch path runs, and says so in one sentence."""

from __future__ import annotations

import pytest
import torch

from core import load_model
from core.engine.testing import tiny_config, write_checkpoint
from core.errors import InvalidInput
from kernels import _cpu


@pytest.fixture
def no_compiled_kernels(tmp_path, monkeypatch):
    """As after an install without a C compiler: the libraries are not there."""
    monkeypatch.setattr(_cpu, "LIB_DIR", tmp_path / "empty")
    _cpu.load.cache_clear()
    yield
    _cpu.load.cache_clear()


def test_without_the_compiled_kernels_the_torch_path_runs_and_says_so(no_compiled_kernels, tmp_path):
    from kernels.target import default_backend

    assert default_backend("cpu") == "torch"
    model = load_model(write_checkpoint(tmp_path / "tiny", tiny_config(), seed=0))
    assert model.notice.startswith("Processor path: PyTorch, several times slower")
    assert "were not built" in model.notice
    assert torch.isfinite(model.logits([1, 2, 3])).all()
    with pytest.raises(InvalidInput, match="compiled processor kernels cannot be used"):
        load_model(tmp_path / "tiny", backend="cpu")


def test_the_kernels_can_be_switched_off(monkeypatch, tmp_path):
    monkeypatch.setenv(_cpu.ENV, "off")
    _cpu.load.cache_clear()
    try:
        assert "switched off" in _cpu.describe()
        assert load_model(write_checkpoint(tmp_path / "tiny", tiny_config(), seed=0)).notice is not None
    finally:
        monkeypatch.delenv(_cpu.ENV)
        _cpu.load.cache_clear()
    assert load_model(tmp_path / "tiny").notice is None  # with them: nothing to say
    assert _cpu.describe().startswith("Processor path: compiled")
