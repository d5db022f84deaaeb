"""Desktop fixtures: tiny real checkpoints (vocabulary large enough for harmony's special
tokens), isolated settings / history / models folders, and a window factory that shuts every
window's threads down after the test."""

from __future__ import annotations

import pytest

from core.engine.testing import tiny_config, write_checkpoint
from core.store.model_store import ModelStore
from desktop.history import History
from desktop.settings import Settings
from tests.desktop.helpers import VOCAB


@pytest.fixture(autouse=True)
def documents_dir(tmp_path, monkeypatch):
    """Every window's document library lives in the test's own folder, never the person's."""
    folder = tmp_path / "documents-library"
    monkeypatch.setenv("HEARTH_DOCS_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    return write_checkpoint(tmp_path_factory.mktemp("tiny-a"), tiny_config(vocab_size=VOCAB), seed=0)


@pytest.fixture(scope="session")
def tiny_checkpoint_b(tmp_path_factory):
    return write_checkpoint(tmp_path_factory.mktemp("tiny-b"), tiny_config(vocab_size=VOCAB), seed=1)


@pytest.fixture
def two_models(store, tiny_checkpoint, tiny_checkpoint_b):
    """Two tiny real checkpoints installed under the catalogue's names."""
    store.import_folder(tiny_checkpoint, model_id="gpt-oss-20b", copy=False)
    store.import_folder(tiny_checkpoint_b, model_id="gpt-oss-120b", copy=False)
    return store


@pytest.fixture
def settings(tmp_path):
    s = Settings(tmp_path / "settings.ini")
    s.max_new_tokens = 40
    return s


@pytest.fixture
def store(tmp_path):
    return ModelStore(tmp_path / "models", offline=True)


@pytest.fixture
def make_window(qtbot, tmp_path, settings, store):
    from desktop.main_window import MainWindow

    windows = []

    def make(worker=None, store_=None, history_path=None, guard=None, history=None):
        history = history if history is not None else History(history_path or tmp_path / "history.sqlite3")
        window = MainWindow(settings, history, store_ or store, worker, guard=guard)
        qtbot.addWidget(window)
        window.show()
        # Shortcuts (Esc, Ctrl+N, Ctrl+F) only fire in the active window.
        window.activateWindow()
        qtbot.waitActive(window)
        windows.append(window)
        # The hardware is read in the background; the fit badges and first model wait for it.
        qtbot.waitUntil(lambda: window.models.hardware is not None, timeout=30000)
        return window

    yield make
    for window in windows:
        window.shutdown()
        window.history.close()
