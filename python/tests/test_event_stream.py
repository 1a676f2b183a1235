"""The event stream parser, on lines as httpx's ``iter_lines`` splits them."""

from durable_jobs._wire import EventStreamParser, ServerSentEvent


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
