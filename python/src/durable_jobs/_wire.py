"""What the sync and async clients share: the requests they build, how answers turn into models or exceptions,
and the reading of an event stream. Nothing here does I/O."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from ._version import __version__
from .errors import ERRORS_BY_CODE, ApiError, ResponseInvalidError
from .models import (
    ChildFailurePolicy,
    ChildJobBody,
    Job,
    JobChangedEvent,
    JobEvent,
    JobLogEvent,
    JobLogLine,
    Priority,
    RetryPolicy,
    SubmitJobBody,
)

ModelT = TypeVar("ModelT", bound=BaseModel)

# The events stream writes a keep-alive comment every 15 s: a read waiting longer than this means a dead server.
EVENTS_READ_TIMEOUT_SECONDS = 60.0


def client_headers(api_key: str | None) -> dict[str, str]:
    headers = {"user-agent": f"durable-jobs-python/{__version__}", "accept": "application/json"}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    return headers


def segment(value: str) -> str:
    """An id as one path segment: a ``/`` in a bad id reaches the API as a bad id (400), not as another route."""
    return quote(value, safe="")


def submit_body(
    type: str,
    input: Any,
    *,
    job_id: str | None,
    priority: Priority | None,
    timeout_seconds: int | None,
    heartbeat_timeout_seconds: int | None,
    retry: RetryPolicy | None,
    callback_url: str | None,
    delay_seconds: float | None,
    run_at: datetime | None,
    children: list[ChildJobBody] | None,
    on_child_failure: ChildFailurePolicy | None,
    tags: Sequence[str] | None = None,
) -> dict[str, Any]:
    return SubmitJobBody(
        type=type,
        input=input,
        job_id=job_id,
        priority=priority,
        timeout_seconds=timeout_seconds,
        heartbeat_timeout_seconds=heartbeat_timeout_seconds,
        retry=retry,
        callback_url=callback_url,
        delay_seconds=delay_seconds,
        run_at=run_at,
        children=children,
        on_child_failure=on_child_failure,
        tags=None if tags is None else list(tags),
    ).to_json_body()


QueryValue = str | int | list[str]


def query(**params: str | int | bool | Sequence[str] | None) -> dict[str, QueryValue]:
    """Query parameters with the unset ones left out; a sequence repeats its parameter, a bool reads true or false."""
    result: dict[str, QueryValue] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            result[name] = "true" if value else "false"
        elif isinstance(value, str | int):
            result[name] = value
        else:
            result[name] = list(value)
    return result


def api_error(response: httpx.Response) -> Exception:
    """The exception an error answer stands for (its body must be read)."""
    text = response.text
    try:
        error = json.loads(text)["error"]
        code, message = error["code"], error["message"]
        if not isinstance(code, str) or not isinstance(message, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        return ResponseInvalidError(
            f"the API answered {response.status_code} without an error body", status=response.status_code, body=text
        )
    details = error.get("details")
    retry_after = response.headers.get("retry-after")
    return ERRORS_BY_CODE.get(code, ApiError)(
        message,
        status=response.status_code,
        code=code,
        details=details if isinstance(details, list) else None,
        retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
    )


def parse(response: httpx.Response, model: type[ModelT]) -> ModelT:
    """The answer's body as `model`, or the exception its error stands for (the body must be read)."""
    if not response.is_success:
        raise api_error(response)
    try:
        return model.model_validate_json(response.content)
    except ValidationError as err:
        raise ResponseInvalidError(
            f"the API's answer is not a {model.__name__}: {err}", status=response.status_code, body=response.text
        ) from err


def expect_status(response: httpx.Response, *statuses: int) -> None:
    if not response.is_success:
        raise api_error(response)
    if response.status_code not in statuses:
        raise ResponseInvalidError(
            f"the API answered {response.status_code}, expected {statuses}", status=response.status_code, body=""
        )


@dataclass(frozen=True)
class ServerSentEvent:
    event: str
    """The event's type: ``message`` when the stream names none."""
    data: str


#: An event (its data and the line being read) longer than this ends the stream: the job JSON is far smaller.
MAX_EVENT_CHARS = 16 * 1024 * 1024

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass
class EventStreamParser:
    """Reads a ``text/event-stream`` by the WHATWG rules: ``event:`` and ``data:`` fields, comments (``:``) skipped,
    any line ending; a blank line dispatches the event, so an unfinished one at the end is dropped. ``feed_text``
    takes the text as it arrives and keeps memory bounded: an event over ``MAX_EVENT_CHARS`` (each at least a byte,
    so over 16 MiB) raises ``ResponseInvalidError`` (a broken or hostile server)."""

    status: int = 200
    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _data_chars: int = 0
    _buffer: str = ""
    #: Where the search for a line end resumes: the buffer before it has none, so each character is scanned once.
    _search_from: int = 0

    def feed_text(self, text: str) -> list[ServerSentEvent]:
        self._buffer += text
        events: list[ServerSentEvent] = []
        start = 0
        for match in _LINE_END.finditer(self._buffer, self._search_from):
            # A CR at the very end may be the first half of a CRLF split across chunks (``close`` ends it).
            if match.group() == "\r" and match.end() == len(self._buffer):
                break
            if (event := self.feed(self._buffer[start : match.start()])) is not None:
                events.append(event)
            start = match.end()
        self._buffer = self._buffer[start:]
        self._search_from = max(0, len(self._buffer) - 1) if self._buffer.endswith("\r") else len(self._buffer)
        if self._data_chars + len(self._buffer) > MAX_EVENT_CHARS:
            raise ResponseInvalidError(
                f"the API's event stream sent an event over {MAX_EVENT_CHARS // 1024 // 1024} MiB",
                status=self.status,
                body="",
            )
        return events

    def close(self) -> list[ServerSentEvent]:
        """The events a line end held back at the stream's end completes (a last CR)."""
        if not self._buffer.endswith("\r"):
            return []
        event = self.feed(self._buffer[:-1])
        self._buffer, self._search_from = "", 0
        return [] if event is None else [event]

    def feed(self, line: str) -> ServerSentEvent | None:
        if line == "":
            dispatched = ServerSentEvent(self._event or "message", "\n".join(self._data)) if self._data else None
            self._event, self._data, self._data_chars = "", [], 0
            return dispatched
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
            self._data_chars += len(value) + 1
        return None


def job_event(event: ServerSentEvent | None, status: int) -> JobEvent | None:
    """A job stream's event as ``follow`` yields it; None for none, and for kinds a newer API may add (skipped, as a
    browser's EventSource skips the ones it does not listen to). ``ResponseInvalidError`` for one outside the
    contract."""
    if event is None:
        return None
    model: type[Job] | type[JobLogLine]
    if event.event == "job":
        model = Job
    elif event.event == "log":
        model = JobLogLine
    else:
        return None
    try:
        parsed = model.model_validate_json(event.data)
    except ValidationError as err:
        raise ResponseInvalidError(
            f"the API's event stream sent a {event.event} event that is not a {model.__name__}: {err}",
            status=status,
            body=event.data,
        ) from err
    return JobChangedEvent(job=parsed) if isinstance(parsed, Job) else JobLogEvent(line=parsed)


@dataclass
class JobEventReader:
    """A job's event stream as ``follow`` reads it: its text in as it arrives, its ``JobEvent``s out
    (``EventStreamParser`` then ``job_event``)."""

    status: int
    _parser: EventStreamParser = field(init=False)

    def __post_init__(self) -> None:
        self._parser = EventStreamParser(status=self.status)

    def feed_text(self, text: str) -> Iterator[JobEvent]:
        """The events this text completes, each checked as it is taken (an invalid one raises after those before)."""
        return self._job_events(self._parser.feed_text(text))

    def close(self) -> Iterator[JobEvent]:
        """The events the stream's end completes."""
        return self._job_events(self._parser.close())

    def _job_events(self, events: list[ServerSentEvent]) -> Iterator[JobEvent]:
        for event in events:
            if (job := job_event(event, self.status)) is not None:
                yield job
