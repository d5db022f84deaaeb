"""The test harness's own promise: a process a test spawned does not outlive the test."""

from __future__ import annotations

import sys

from tests.processes import end_leftovers, spawn


def test_a_spawned_process_still_running_is_ended_with_the_test():
    process = spawn([sys.executable, "-c", "import time; time.sleep(600)"])
    assert end_leftovers() == [[sys.executable, "-c", "import time; time.sleep(600)"]]
    assert process.poll() is not None and end_leftovers() == []
