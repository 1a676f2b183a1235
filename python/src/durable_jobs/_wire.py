"""What the sync and async clients share: the requests they build, how answers turn into models or exceptions,
and the reading of an event stream. Nothing here does I/O."""

from __future__ import annotations

import json
from collections.abc import Sequence
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


@dataclass
class EventStreamParser:
    """Reads a ``text/event-stream`` line by line by the WHATWG rules: ``event:`` and ``data:`` fields, comments
    (``:``) skipped; a blank line dispatches the event, so an unfinished one at the end is dropped. httpx's
    ``iter_lines`` has already split the lines on any line ending."""

    _event: str = ""
    _data: list[str] = field(default_factory=list)

    def feed(self, line: str) -> ServerSentEvent | None:
        if line == "":
            dispatched = ServerSentEvent(self._event or "message", "\n".join(self._data)) if self._data else None
            self._event, self._data = "", []
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
        return None


def job_event(event: ServerSentEvent | None) -> JobEvent | None:
    """A job stream's event as ``follow`` yields it; None for none, and for kinds a newer API may add (skipped, as a
    browser's EventSource skips the ones it does not listen to)."""
    if event is None:
        return None
    if event.event == "job":
        return JobChangedEvent(job=Job.model_validate_json(event.data))
    if event.event == "log":
        return JobLogEvent(line=JobLogLine.model_validate_json(event.data))
    return None
