"""The `python` tool as the model uses it: state between calls, tracebacks as text, the time and
memory limits, files in /mnt/data, Stop from another thread, a worker that dies, long output."""

from __future__ import annotations

import tempfile
import threading
import time

import pytest

from core.sandbox import PythonTool, SandboxLimits
from core.sandbox.result import NO_OUTPUT
from tests.core.sandbox.conftest import linux_only

pytestmark = linux_only
MODES = ["auto", "seccomp"]  # here, auto is the namespace; seccomp is the forced fallback


@pytest.mark.parametrize("mode", MODES)
def test_state_survives_between_calls(open_tool, mode):
    tool = open_tool(mode=mode)
    assert tool.call("import numpy as np\nvalues = np.arange(10)\nprint('made')") == "made\n"
    assert tool.call("total = int(values.sum())\ntotal") == "45\n"
    assert tool.call("def twice(x):\n    return 2 * x\ntwice(total)") == "90\n"


def test_a_traceback_comes_back_as_text_and_the_session_goes_on(open_tool):
    tool = open_tool()
    text = tool.call("print('before')\nundefined_name + 1")
    assert text.startswith("before\nTraceback (most recent call last):")
    assert 'File "<cell 1>", line 2' in text and text.endswith("NameError: name 'undefined_name' is not defined")
    assert tool.call("1 + 1") == "2\n"
    assert tool.call("x = 1") == NO_OUTPUT


def test_output_from_c_and_child_processes_is_captured_in_order(open_tool):
    tool = open_tool()
    text = tool.call("import os, subprocess, sys\nprint('one')\nos.write(1, b'two\\n')\n"
                     "subprocess.run([sys.executable, '-c', 'print(3)'])\nprint('four', file=sys.stderr)")
    assert text == "one\ntwo\n3\nfour\n"


def test_the_time_limit_kills_and_restarts_and_says_so(open_tool):
    tool = open_tool(limits=SandboxLimits(timeout_s=2))
    tool.call("kept = 1")
    started = time.monotonic()
    text = tool.call("import time\nwhile True:\n    time.sleep(0.1)")
    assert 2 <= time.monotonic() - started < 10
    assert text == ("The code ran longer than 2 seconds and was stopped; the Python session was restarted, "
                    "so earlier variables are gone.")
    assert tool.call("kept").endswith("NameError: name 'kept' is not defined")
    assert tool.call("'fresh'") == "'fresh'\n"


def test_a_child_process_does_not_outlive_the_time_limit(open_tool, tmp_path):
    tool = open_tool(limits=SandboxLimits(timeout_s=2))
    tool.call("import subprocess\nchild = subprocess.Popen(['sleep', '600'])\nchild.pid")
    tool.call("import time; time.sleep(60)")
    # The whole process group went with the worker: no sleep 600 of ours is left.
    import subprocess
    left = subprocess.run(["pgrep", "-f", "^sleep 600$"], capture_output=True, text=True).stdout.split()
    assert left == []


@pytest.mark.parametrize("mode", MODES)
def test_the_memory_limit_is_a_memory_error_not_a_dead_session(open_tool, mode):
    tool = open_tool(mode=mode, limits=SandboxLimits(memory_bytes=768 * 1024**2))
    tool.call("small = list(range(10))")
    text = tool.call("big = bytearray(1024**3)")
    assert text.endswith("MemoryError")
    text = tool.call("import numpy as np\nnp.ones(2**28)")  # 2 GiB
    assert "Unable to allocate 2.00 GiB" in text
    assert tool.call("len(small)") == "10\n"


def test_the_code_cannot_raise_its_own_limits(open_tool):
    tool = open_tool(limits=SandboxLimits(processes=16))
    assert tool.call("import resource\nresource.getrlimit(resource.RLIMIT_NPROC)") == "(16, 16)\n"
    text = tool.call("resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY,) * 2)")
    assert text.endswith("ValueError: not allowed to raise maximum limit")


@pytest.mark.parametrize("mode", MODES)
def test_files_land_in_the_scratch_folder(open_tool, mode, tmp_path):
    scratch = tmp_path / "chat"
    (scratch).mkdir()
    (scratch / "given.csv").write_text("a,b\n1,2\n")
    tool = open_tool(mode=mode, scratch=scratch)
    code = ("import os, pathlib, numpy as np\n"
            "open('/mnt/data/absolute.txt', 'w').write('one')\n"
            "open('relative.txt', 'w').write('two')\n"
            "pathlib.Path('/mnt/data/sub').mkdir()\n"
            "np.save('/mnt/data/sub/array.npy', np.arange(3))\n"
            "print(os.getcwd() == '/mnt/data' or os.getcwd() == os.path.realpath(os.getcwd()))\n"
            "sorted(os.listdir('/mnt/data')), open('/mnt/data/given.csv').read()")
    text = tool.call(code)
    assert "['absolute.txt', 'given.csv', 'relative.txt', 'sub']" in text and "a,b" in text
    assert (scratch / "absolute.txt").read_text() == "one" and (scratch / "relative.txt").read_text() == "two"
    assert (scratch / "sub" / "array.npy").is_file()


def test_in_the_namespace_mnt_data_is_a_real_mount(open_tool, tmp_path):
    tool = open_tool(scratch=tmp_path)
    assert tool.isolation.mnt_data == "mounted"
    assert tool.call("import os, subprocess\nprint(os.listdir('/mnt'))\n"
                     "done = subprocess.run(['touch', '/mnt/data/from-a-program'])") == "['data']\n"
    assert (tmp_path / "from-a-program").exists()


def test_stop_interrupts_the_running_call_and_keeps_the_variables(open_tool):
    tool = open_tool()
    tool.call("kept = 'yes'")
    answers = []
    running = threading.Thread(target=lambda: answers.append(tool.call("while True:\n    pass")))
    running.start()
    time.sleep(0.5)
    tool.stop()
    running.join(10)
    assert answers and answers[0].endswith("KeyboardInterrupt")
    assert tool.call("kept") == "'yes'\n"


def test_stop_kills_a_call_that_ignores_the_interrupt(open_tool):
    tool = open_tool()
    tool.call("kept = 'yes'")
    answers = []
    code = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    running = threading.Thread(target=lambda: answers.append(tool.call(code)))
    running.start()
    time.sleep(0.5)
    started = time.monotonic()
    tool.stop()
    running.join(15)
    assert time.monotonic() - started < 6
    assert answers == ["The code was stopped before it finished; the Python session was restarted, so earlier "
                       "variables are gone."]
    assert tool.call("kept").endswith("NameError: name 'kept' is not defined")


def test_stop_between_calls_does_nothing(open_tool):
    tool = open_tool()
    tool.call("kept = 1")
    tool.stop()
    assert tool.call("kept") == "1\n"


def test_a_worker_that_dies_is_replaced(open_tool):
    tool = open_tool()
    assert "(exit code 7)" in tool.call("import os\nos._exit(7)")
    assert tool.call("2 + 2") == "4\n"


def test_long_output_is_cut_in_the_middle_with_a_note(open_tool):
    tool = open_tool(limits=SandboxLimits(output_chars=1000))
    text = tool.call("for i in range(200_000):\n    print(i)")
    assert len(text) < 1200
    assert text.startswith("0\n1\n2\n") and text.endswith("199998\n199999\n")
    assert "left out" in text


def test_two_chats_have_two_sessions(open_tool):
    first, second = open_tool(), open_tool()
    first.call("who = 'first'")
    assert second.call("who").endswith("NameError: name 'who' is not defined")
    assert first.call("who") == "'first'\n"


def test_closing_leaves_nothing_behind_but_the_chats_own_scratch_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    tempfile.tempdir = None  # read TMPDIR again
    try:
        given = PythonTool(scratch=tmp_path / "chat")
        given.call("open('/mnt/data/kept.txt', 'w').write('kept')")
        given.close()
        owned = PythonTool()
        owned.call("open('/mnt/data/gone.txt', 'w').write('gone')")
        owned.close()
    finally:
        tempfile.tempdir = None
    assert list((tmp_path / "tmp").iterdir()) == []  # no session folder left, for either
    assert (tmp_path / "chat" / "kept.txt").read_text() == "kept"


def test_a_closed_tool_answers_without_running(open_tool):
    tool = open_tool()
    tool.close()
    assert tool.call("1").startswith("Error: Python is not available")


def test_probe_says_what_isolates_python_here():
    from core.sandbox import probe

    isolation = probe()
    assert isolation.kind in ("namespace", "seccomp") and isolation.tested
    assert "seccomp filter (no sockets)" in isolation.summary()


@pytest.mark.parametrize("landlock", [True, False])
def test_isolation_says_whether_the_persons_files_are_kept_away(open_tool, landlock):
    from core.sandbox.landlock import abi_version

    isolation = open_tool(landlock=landlock).isolation
    assert isolation.files == ("kept" if landlock and abi_version() > 0 else "open"), isolation.summary()


def test_the_code_sees_no_command_line_of_hearths(open_tool):
    assert open_tool().call("import sys\nsys.argv") == "['']\n"
