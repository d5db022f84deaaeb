"""core/chat/opener.py: one way to open a model, on the device the fit planner picks."""

from __future__ import annotations

import pytest

from core.chat import opener
from core.engine.testing import tiny_config, write_checkpoint
from core.system.policy import Policy, PolicyForbids


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_checkpoint(tmp_path_factory.mktemp("m") / "tiny", tiny_config())


def test_auto_asks_the_fit_planner(tiny, monkeypatch):
    asked = []
    monkeypatch.setattr(opener, "choose_device", lambda config: asked.append(config) or "cpu")
    assert opener.device_for(tiny) == "cpu"
    assert asked and asked[0].num_hidden_layers == tiny_config().num_hidden_layers
    assert opener.device_for(tiny, "cuda:1") == "cuda:1"  # a device given is taken as it is


def test_auto_picks_the_processor_on_a_machine_without_a_gpu(tiny):
    assert opener.device_for(tiny) == "cpu"


def test_open_model_loads_weights_and_tokenizer(tiny):
    opened = opener.open_model(str(tiny), policy=Policy())
    assert opened.device == "cpu" and opened.name == "tiny" and opened.folder.catalogue_id is None
    assert opened.tokenizer.encode("Hello")
    assert opened.model.config.num_hidden_layers == tiny_config().num_hidden_layers


def test_open_model_refuses_before_reading_weights(tiny, monkeypatch):
    monkeypatch.setattr(opener, "load_model", lambda *a, **k: pytest.fail("loaded a refused model"))
    with pytest.raises(PolicyForbids):
        opener.open_model(str(tiny), policy=Policy(allowed_models=frozenset({"gpt-oss-20b"})))
