"""The event stream parser, on lines and on chunks of text as they arrive, and follow() against a hostile stream."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from durable_jobs import Client, ResponseInvalidError
from durable_jobs._wire import MAX_EVENT_CHARS, EventStreamParser, ServerSentEvent, job_event


def events_of(lines: list[str]) -> list[ServerSentEvent]:
    parser = EventStreamParser()
    return [event for line in lines if (event := parser.feed(line)) is not None]


def test_named_events_multi_line_data_and_comments() -> None:
    lines = [": keep-alive", "", "event: job", 'data: {"a":', "data:1}", "", "data: first", "data:  second", ""]
    assert events_of(lines) == [
        ServerSentEvent("job", '{"a":\n1}'),
        ServerSentEvent("message", "first\n second"),
    ]


def test_an_unfinished_event_at_the_end_is_dropped() -> None:
    assert events_of(["event: job", "data: {}", "", "event: job", "data: unfinished"]) == [ServerSentEvent("job", "{}")]


def test_a_blank_line_without_data_dispatches_nothing() -> None:
    assert events_of(["event: job", "", "", "data: x", ""]) == [ServerSentEvent("message", "x")]


def test_a_line_end_split_across_chunks_is_one_line_end() -> None:
    parser = EventStreamParser()
    chunks = ["event: job\r", "\ndata: {}\r", "\n\r", "\n", "data: x\n\r"]
    events = [event for chunk in chunks for event in parser.feed_text(chunk)]
    assert events + parser.close() == [ServerSentEvent("job", "{}"), ServerSentEvent("message", "x")]


def test_an_event_over_the_bound_is_refused_however_its_lines_are_cut() -> None:
    for prefix, chunk in [("event: job\ndata: ", "x" * 65536), ("event: job\n", f"data: {'x' * 65536}\n")]:
        parser = EventStreamParser()
        parser.feed_text(prefix)
        for _ in range(MAX_EVENT_CHARS // len(chunk) - 1):
            parser.feed_text(chunk)
        with pytest.raises(ResponseInvalidError, match="an event over 16 MiB"):
            parser.feed_text(chunk * 2)


class _HostileStream(BaseHTTPRequestHandler):
    """Answers every GET with an event stream of one event that never ends, counting what it sent."""

    sent = 0

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        type(self).sent = 0
        chunk = b"x" * 65536
        try:
            self.wfile.write(b"event: job\ndata: ")
            while type(self).sent < 4 * MAX_EVENT_CHARS:
                self.wfile.write(chunk)
                type(self).sent += len(chunk)
        except OSError:
            pass  # the client stopped reading: what this test wants

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_follow_stops_reading_a_hostile_stream_and_says_why() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileStream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = Client(f"http://127.0.0.1:{server.server_address[1]}")
        with client, pytest.raises(ResponseInvalidError, match="an event over 16 MiB"):
            for _ in client.follow("any"):
                pass
        deadline = time.monotonic() + 10
        while _HostileStream.sent < 4 * MAX_EVENT_CHARS and time.monotonic() < deadline:
            previous = _HostileStream.sent
            time.sleep(0.2)
            if _HostileStream.sent == previous:
                break
        assert _HostileStream.sent < 2 * MAX_EVENT_CHARS
    finally:
        server.shutdown()
        server.server_close()


def test_an_event_that_is_not_json_says_so() -> None:
    parser = EventStreamParser()
    (event,) = parser.feed_text("event: shiny-new-kind\ndata: {}\n\nevent: job\ndata: {not json\n\n")[1:]
    with pytest.raises(ResponseInvalidError, match="a job event that is not a Job"):
        job_event(event, 200)
