"""The remote client against llama.cpp's own server, live: `llama-server` built from the
llama-cpp-python 0.3.36 source package (`-DLLAMA_BUILD_SERVER=ON`) serving a tiny random-weight
gpt-oss checkpoint converted to GGUF with llama.cpp's converter (as ../shared/bench/llamacpp_anchor.sh
converts the 20b). Building llama.cpp takes minutes, so this runs where it was built:

    HEARTH_LLAMA_SERVER=path/to/llama-server HEARTH_LLAMA_GGUF=path/to/tiny.gguf \
        pytest tests/core/remote/test_llamacpp_live.py

Random weights write nonsense, so the checks are the protocol's: the answer streams as a local
turn's events, ends with a Finished that says why, counts its tokens, stops at max_tokens, and
the server's reasoning channel (llama.cpp's `reasoning_content`) is read as reasoning."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request

import pytest

from core.chat.answer import Answer
from core.chat.events import Finished, TextDelta
from core.remote import ModelGone, RemoteModel, RemoteServer, RemoteSettings

SERVER, GGUF = os.environ.get("HEARTH_LLAMA_SERVER"), os.environ.get("HEARTH_LLAMA_GGUF")
pytestmark = pytest.mark.skipif(not (SERVER and GGUF), reason="set HEARTH_LLAMA_SERVER and HEARTH_LLAMA_GGUF")
CHAT = [{"role": "user", "content": "Say hello."}]


@pytest.fixture(scope="module")
def llama_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([SERVER, "-m", GGUF, "--host", "127.0.0.1", "--port", str(port), "-c", "2048",
                                "-t", "2", "--jinja", "--reasoning-format", "auto"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("llama-server did not come up within 120 s")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def test_a_streamed_answer_from_llama_server_is_a_local_turn(llama_server):
    server = RemoteServer.open(llama_server)
    (model_id, *_) = server.models()
    events = list(RemoteModel(server, model_id).generate(
        CHAT, settings=RemoteSettings(max_tokens=24, temperature=0.0, reasoning_effort="low")))
    done = events[-1]
    assert isinstance(done, Finished) and done.error is None and done.reason in ("stop", "length")
    assert done.generated_tokens > 0 and done.prompt_tokens > 0
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert deltas, events  # something streamed, on the channel the server gave it
    answer = Answer.of(events)
    assert answer.content or answer.reasoning


def test_llama_server_answers_over_the_responses_api_too_or_says_why(llama_server):
    server = RemoteServer.open(llama_server)
    (model_id, *_) = server.models()
    try:
        events = list(RemoteModel(server, model_id, api="responses").generate(
            CHAT, settings=RemoteSettings(max_tokens=16, temperature=0.0)))
    except ModelGone as refusal:  # an older llama-server without /v1/responses: a sentence, not a crash
        assert "responses" in str(refusal).lower() or str(refusal)
        return
    assert isinstance(events[-1], Finished) and events[-1].error is None


def test_a_model_the_server_lacks_is_said_plainly(llama_server):
    server = RemoteServer.open(llama_server)
    events = []
    try:
        events = list(RemoteModel(server, "no-such-model").generate(CHAT, settings=RemoteSettings(max_tokens=4)))
    except Exception as refusal:
        assert str(refusal) and "Traceback" not in str(refusal)
        return
    # llama-server serves its one model whatever name is asked for: then the answer simply comes.
    assert isinstance(events[-1], Finished)
