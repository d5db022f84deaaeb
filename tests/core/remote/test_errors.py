"""Every way a remote server can fail, turned into its sentence: a tiny local server answers
401, 403, 404, 429, 500 and 503 on purpose, cuts its stream part-way, goes silent, or reports
an error in the middle; nothing listening, and a name nobody knows. A stream that breaks
after the answer began keeps what arrived and ends with Finished(reason="error")."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx2 as httpx
import pytest

from core.chat.answer import Answer
from core.chat.events import Finished, ToolCall, TurnEnded
from core.remote import (
    ModelGone,
    NotAuthorized,
    RemoteError,
    RemoteModel,
    RemoteServer,
    RequestRefused,
    ServerBusy,
    ServerFailed,
    ServerUnreachable,
)
from core.remote.errors import for_transport, server_message
from tests.core.remote.fake_server import fake_server

CHAT = [{"role": "user", "content": "Hi"}]


def chunk(**delta):
    return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}


PARTIAL = [chunk(reasoning_content="Thinking it over."), chunk(content="The answer is"), chunk(content=" forty")]


def error_body(message: str, kind: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def turn(url: str, api_key: str | None = None, model: str = "openai/gpt-oss-120b", **server_options):
    return list(RemoteModel(RemoteServer.open(url, api_key=api_key, **server_options), model).generate(CHAT))


@pytest.mark.parametrize(("status", "body", "headers", "key", "error", "sentence"), [
    (401, error_body("Invalid API key"), {}, "wrong", NotAuthorized,
     r"did not accept the API key \(it answered 401\)\. Check the key"),
    (401, error_body("Missing API key"), {}, None, NotAuthorized,
     r"needs an API key, and none was given\. Enter it in Hearth's Servers window \(Model menu, Servers…\), "
     r"or set HEARTH_REMOTE_API_KEY"),
    (403, error_body("Forbidden"), {}, "k", NotAuthorized, r"does not allow this API key to use openai/gpt-oss-120b"),
    (404, error_body("The model `openai/gpt-oss-120b` does not exist.", "NotFoundError"), {}, None, ModelGone,
     r"The model openai/gpt-oss-120b is not on the server at 127\.0\.0\.1:\d+ \(any more\)\. It may have been removed"),
    (404, {"detail": "Not Found"}, {}, None, ModelGone, r"There is no model API at .*it usually ends in /v1"),
    (429, error_body("Too many requests"), {"Retry-After": "20"}, None, ServerBusy,
     r"is busy with other requests right now\. Try again in 20 seconds\."),
    (500, error_body("CUDA out of memory", "InternalServerError"), {}, None, ServerFailed,
     r"had a problem and could not answer \(error 500\)\. Try again; if it keeps happening, tell the server's"),
    (503, error_body("Service Unavailable"), {}, None, ServerFailed, r"is not available right now \(it answered 503\)"),
    (400, error_body("This model's maximum context length is 131072 tokens."), {}, None, RequestRefused,
     r"refused the request \(error 400\): This model's maximum context length is 131072 tokens\."),
])
def test_an_http_error_becomes_its_sentence(status, body, headers, key, error, sentence):
    with fake_server(lambda h, _: h.json(status, body, headers)) as server, \
            pytest.raises(error, match=sentence) as raised:
        turn(server.url, api_key=key)
    assert f"HTTP {status}" in raised.value.details  # the server's own words, for a bug report
    assert "Traceback" not in str(raised.value) and "{" not in str(raised.value)


def test_nothing_listening_is_unreachable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ServerUnreachable, match=r"could not reach the server at 127\.0\.0\.1:\d+\. Check that the "
                                                r"server is running"):
        turn(f"http://127.0.0.1:{port}/v1")


def test_an_unknown_name_is_said_as_such():
    failure = httpx.ConnectError("[Errno -2] Name or service not known")
    failure.__cause__ = socket.gaierror(-2, "Name or service not known")
    error = for_transport(failure, server="llm.acme.example", host="llm.acme.example")
    assert isinstance(error, ServerUnreachable)
    assert str(error).startswith("Hearth could not find the server llm.acme.example: this computer does not know")


@pytest.mark.parametrize("chunked", [True, False], ids=["cut-mid-body", "closed-early"])
def test_a_dropped_stream_keeps_the_partial_answer_marked(chunked):
    with fake_server(lambda h, _: h.sse(PARTIAL, done=False, cut_after=len(PARTIAL), chunked=chunked)) as server:
        events = turn(server.url)
    answer = Answer.of(events)
    assert answer.reasoning == "Thinking it over." and answer.content == "The answer is forty"
    done = events[-1]
    assert isinstance(done, Finished) and done.reason == "error"
    assert done.error.startswith("The connection to 127.0.0.1:")
    assert "before the answer was complete; the part above is what arrived." in done.error
    assert not any(isinstance(e, TurnEnded) for e in events)


def test_a_call_cut_off_is_not_handed_over():
    pieces = [chunk(tool_calls=[{"index": 0, "id": "c1", "function": {"name": "get_weather", "arguments": '{"ci'}}])]
    with fake_server(lambda h, _: h.sse(pieces, done=False, cut_after=1)) as server:
        events = turn(server.url)
    assert not any(isinstance(e, ToolCall) for e in events)
    assert events[-1].reason == "error"


def test_an_error_in_the_middle_of_the_stream_ends_the_answer_with_it():
    pieces = [*PARTIAL, {"error": {"message": "The engine was restarted.", "type": "InternalServerError"}}]
    with fake_server(lambda h, _: h.sse(pieces)) as server:
        events = turn(server.url)
    assert Answer.of(events).content == "The answer is forty"
    assert events[-1].reason == "error"
    assert events[-1].error.endswith("stopped with an error while answering: The engine was restarted.")


def test_a_server_that_goes_silent_is_given_up_on():
    def stall(handler, _):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.write(f"data: {json.dumps(chunk(content='Half'))}\n\n")
        time.sleep(2)
    with fake_server(stall) as server:
        events = turn(server.url, read_timeout=0.5)
    assert Answer.of(events).content == "Half"
    assert events[-1].error == (f"The server at 127.0.0.1:{server.server_port} stopped sending the answer for 0.5 "
                                "seconds, so Hearth stopped waiting; the part above is what arrived.")


def test_a_silence_before_any_answer_is_raised():
    with fake_server(lambda h, _: time.sleep(2)) as server, \
            pytest.raises(ServerUnreachable, match=r"took more than 0\.5 seconds to start answering"):
        turn(server.url, read_timeout=0.5)


def test_stop_cuts_a_server_still_reading_the_prompt():
    with fake_server(lambda h, _: time.sleep(3)) as server:
        cancel = threading.Event()
        threading.Timer(0.3, cancel.set).start()
        started = time.perf_counter()
        events = list(RemoteModel(RemoteServer.open(server.url), "m").generate(CHAT, cancel=cancel))
        took = time.perf_counter() - started
    assert [type(e) for e in events] == [Finished] and events[0].reason == "cancelled"
    assert took < 1.5


def test_stop_while_the_answer_streams_keeps_what_arrived():
    cancel = threading.Event()

    def slow(handler, _):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for n in range(50):
            handler.write(f'data: {{"choices": [{{"index": 0, "delta": {{"content": "w{n} "}}}}]}}\n\n')
            time.sleep(0.05)

    with fake_server(slow) as server:
        events = []
        for event in RemoteModel(RemoteServer.open(server.url), "m").generate(CHAT, cancel=cancel):
            events.append(event)
            if len(events) == 4:
                cancel.set()
    assert events[-1].reason == "cancelled" and Answer.of(events).content.startswith("w0 w1 w2")


def test_server_messages_are_read_from_each_servers_error_shape():
    assert server_message(b'{"error": {"message": "bad key"}}') == "bad key"
    assert server_message(b'{"detail": "Not Found"}') == "Not Found"
    assert server_message(b'{"error": "model not loaded"}') == "model not loaded"  # llama.cpp's older shape
    assert server_message(b"<html>502 Bad Gateway</html>") == "<html>502 Bad Gateway</html>"
    assert isinstance(NotAuthorized("x"), RemoteError)
