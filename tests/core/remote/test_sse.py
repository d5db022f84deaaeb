"""Server-sent events as servers write them: data lines, blank lines ending events, `event:`
names and `:` keep-alive comments, CRLF line ends, data split over lines, a last event
without its blank line."""

from core.remote.sse import sse_data


def test_events_are_their_data():
    lines = [": keep-alive", "event: response.output_text.delta", 'data: {"a": 1}', "", "data:[DONE]", ""]
    assert list(sse_data(lines)) == ['{"a": 1}', "[DONE]"]


def test_crlf_multi_line_data_and_an_unterminated_last_event():
    lines = ["data: one\r", "data: two\r", "\r", "", "", "data: last"]
    assert list(sse_data(lines)) == ["one\ntwo", "last"]
