"""The organisation's policy applied by the model store: forced offline mode, downloads turned
off and a fixed models folder outrank the store's own arguments, and a refused download never
reaches the hub (the fake one on 127.0.0.1, whose request log proves it)."""

from __future__ import annotations

import pytest

from core.store.model_store import ModelStore
from core.system.policy import Policy, PolicyForbids
from tests.model_fixtures import root_files, write_folder


def test_forced_offline_mode_outranks_the_argument_and_refuses_downloads(tmp_path, hub):
    policy = Policy(offline=True, reason="Air-gapped lab.")
    store = ModelStore(tmp_path / "models", offline=False, endpoint=hub.url, policy=policy)
    assert store.offline is True and store.policy is policy
    with pytest.raises(PolicyForbids, match=r"^Downloading models is turned off on this computer\. "
                                            r"Locked by your organisation's policy.*Air-gapped lab\. "
                                            r"Import the model from a folder instead\.$"):
        store.download("gpt-oss-20b")
    assert hub.log == [] and not store.partial_dir("gpt-oss-20b").exists()


def test_downloads_off_refuses_a_download_but_not_an_import(tmp_path, hub, files):
    store = ModelStore(tmp_path / "models", offline=False, endpoint=hub.url, policy=Policy(downloads=False))
    assert store.offline is False  # online for everything else; only downloads are off
    with pytest.raises(PolicyForbids, match=r"Downloading models is turned off"):
        store.download("gpt-oss-20b")
    assert hub.log == []
    src = write_folder(tmp_path / "usb", root_files(files))
    assert store.import_folder(src, model_id="gpt-oss-20b").status == "installed"


def test_a_fixed_models_folder_outranks_the_argument_and_the_environment(tmp_path, monkeypatch, files):
    fixed = tmp_path / "srv" / "models"
    policy = Policy(models_dir=fixed)
    monkeypatch.setenv("HEARTH_MODELS_DIR", str(tmp_path / "env"))
    assert ModelStore(tmp_path / "mine", offline=True, policy=policy).models_dir == fixed
    store = ModelStore(offline=True, policy=policy)
    assert store.models_dir == fixed
    store.import_folder(write_folder(tmp_path / "usb", root_files(files)), model_id="gpt-oss-20b")
    assert store.path("gpt-oss-20b") == fixed / "gpt-oss-20b"
    assert not (tmp_path / "env").exists() and not (tmp_path / "mine").exists()
    # A policy without a folder leaves the choice (and the default) as it was.
    assert ModelStore(offline=True, policy=Policy(offline=True)).models_dir == tmp_path / "env"
    assert ModelStore(tmp_path / "mine", policy=Policy()).models_dir == tmp_path / "mine"


def test_the_store_reads_the_policy_in_force_when_none_is_given(tmp_path, monkeypatch, hub):
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(f'offline = true\nmodels_dir = "{tmp_path / "fixed"}"\n')
    monkeypatch.setenv("HEARTH_POLICY", str(policy_file))
    store = ModelStore(tmp_path / "mine", offline=False, endpoint=hub.url)
    assert store.policy.sources == (policy_file,)
    assert store.offline is True and store.models_dir == tmp_path / "fixed"


def test_a_broken_policy_file_means_the_most_restrictive_store(tmp_path, monkeypatch, hub):
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text('reason = "IT"\noffline = "yes"\n')
    monkeypatch.setenv("HEARTH_POLICY", str(policy_file))
    store = ModelStore(tmp_path / "models", offline=False, endpoint=hub.url)
    assert store.offline is True
    with pytest.raises(PolicyForbids, match=r"could not be used \(.*policy\.toml, line 2: offline must be true"):
        store.download("gpt-oss-20b")
    assert hub.log == []
