"""core/store/identity.py: a folder is judged by what it holds, never by a name."""

from __future__ import annotations

import json

import pytest

from core.engine.config import GPT_OSS_20B, GPT_OSS_120B
from core.engine.testing import tiny_config, write_checkpoint
from core.errors import ModelNotFound
from core.store.identity import ModelFolder, check_allowed, find_model, identify, identify_config
from core.store.model_files import Manifest
from core.system.policy import Policy, PolicyForbids

ONLY_20B = Policy(allowed_models=frozenset({"gpt-oss-20b"}))


def _config_only(folder, **fields):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(fields))
    (folder / "model.safetensors").write_bytes(b"")
    return folder


def test_a_folder_is_the_catalogue_model_its_config_describes(tmp_path):
    assert identify(_config_only(tmp_path / "x", num_hidden_layers=24, num_local_experts=32)) == "gpt-oss-20b"
    assert identify(_config_only(tmp_path / "y", num_hidden_layers=36, num_experts=128)) == "gpt-oss-120b"
    assert identify_config(GPT_OSS_20B) == "gpt-oss-20b" and identify_config(GPT_OSS_120B) == "gpt-oss-120b"


def test_any_other_shape_or_an_unreadable_folder_is_no_catalogue_model(tmp_path):
    assert identify(write_checkpoint(tmp_path / "gpt-oss-20b", tiny_config())) is None
    # Same layers and experts as the 20b, another width: not the 20b.
    assert identify(_config_only(tmp_path / "wide", num_hidden_layers=24, num_local_experts=32,
                                 hidden_size=4096)) is None
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    (tmp_path / "broken" / "model.safetensors").write_bytes(b"")
    assert identify(tmp_path / "broken") is None
    assert identify(tmp_path / "missing") is None


def test_renaming_or_a_manifest_claim_does_not_change_what_a_folder_is(tmp_path):
    folder = write_checkpoint(tmp_path / "gpt-oss-20b", tiny_config())
    Manifest("gpt-oss-20b", "openai/gpt-oss-20b", None, "hf", ()).write(folder)
    with pytest.raises(PolicyForbids, match="is not one of the models Hearth knows"):
        find_model(str(folder), ONLY_20B)


def test_a_catalogue_model_in_a_folder_is_checked_by_its_config(tmp_path):
    big = _config_only(tmp_path / "gpt-oss-20b", num_hidden_layers=36, num_experts=128)
    with pytest.raises(PolicyForbids, match="'gpt-oss-120b' is not allowed"):
        find_model(str(big), ONLY_20B)
    small = _config_only(tmp_path / "anything", num_hidden_layers=24, num_local_experts=32)
    assert find_model(str(small), ONLY_20B) == ModelFolder(small, "gpt-oss-20b")


def test_without_a_model_list_any_folder_is_allowed(tmp_path):
    folder = write_checkpoint(tmp_path / "mine", tiny_config())
    found = find_model(str(folder), Policy())
    assert found.catalogue_id is None and found.name == "mine"


def test_a_catalogue_id_is_refused_before_the_store_is_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PolicyForbids, match="'gpt-oss-120b' is not allowed"):
        find_model("gpt-oss-120b", ONLY_20B, tmp_path / "models")
    with pytest.raises(ModelNotFound):
        find_model("gpt-oss-20b", ONLY_20B, tmp_path / "models")


def test_a_missing_folder_is_left_for_loading_to_explain(tmp_path):
    assert find_model(str(tmp_path / "nowhere"), ONLY_20B).catalogue_id is None


def test_check_allowed_names_the_model_and_the_list():
    check_allowed(Policy(), None, "Anything")
    check_allowed(ONLY_20B, "gpt-oss-20b", "The 20b")
    with pytest.raises(PolicyForbids, match=r"This one is not one of the models Hearth knows.*\(allowed: gpt-oss-20b"):
        check_allowed(ONLY_20B, None, "This one")
