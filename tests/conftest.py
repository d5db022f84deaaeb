"""Shared test setup: Qt runs headless everywhere."""

import os

import pytest

from tests.fakehub import FakeHub, FakeRepo
from tests.model_fixtures import REPO_ID, repo_files
from tests.processes import end_leftovers

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def no_leftover_processes():
    """Every process a test spawned (tests/processes.py) is gone when the test ends."""
    yield
    end_leftovers()


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    """Path -> bytes of a fake `openai/gpt-oss-20b` repo (tests/model_fixtures.py); a module may
    override it with its own variant."""
    return repo_files()


@pytest.fixture
def hub(files):
    """A local server speaking the Hugging Face hub's protocol for `files` (tests/fakehub.py)."""
    with FakeHub([FakeRepo(REPO_ID, files)]) as hub:
        yield hub
