"""Loading a model folder that cannot be read as it should: each fault is a sentence (a typed
core error), never a traceback, and says which file and what to do."""

from __future__ import annotations

import errno

import pytest

import core.engine.safetensors_file
from core import load_model
from core.errors import FileNotReadable, ModelNotFound, NotEnoughMemory
from tests.faults import deny_reading
from tests.model_fixtures import repo_files, root_files, write_folder


@pytest.fixture
def folder(tmp_path):
    return write_folder(tmp_path / "model", root_files(repo_files()))


def test_a_link_loop_is_named_as_such(tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(ModelNotFound, match="link that leads nowhere"):  # once: "does not exist"
        load_model(loop)


@pytest.mark.parametrize("name", ["config.json", "model-00002-of-00002.safetensors", "model.safetensors.index.json"])
def test_a_file_this_account_may_not_read_is_not_called_damaged(folder, monkeypatch, name):
    deny_reading(monkeypatch, name)
    with pytest.raises(FileNotReadable, match="not allowed to read it") as refusal:
        load_model(folder)
    assert name in str(refusal.value) and "damaged" not in str(refusal.value)


def test_a_memory_limit_below_the_model_is_a_sentence(folder, monkeypatch):
    def no_memory(*args, **kwargs):
        raise OSError(errno.ENOMEM, "Cannot allocate memory")

    monkeypatch.setattr(core.engine.safetensors_file.mmap, "mmap", no_memory)
    with pytest.raises(NotEnoughMemory, match="memory limit"):  # once: OSError [Errno 12]
        load_model(folder)
