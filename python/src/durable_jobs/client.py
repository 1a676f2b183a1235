"""Clients of the durable-jobs REST API: ``Client`` (blocking) and ``AsyncClient`` (asyncio), with the same methods."""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from contextlib import aclosing, closing
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from ._wire import (
    EVENTS_READ_TIMEOUT_SECONDS,
    JobEventReader,
    QueryValue,
    api_error,
    client_headers,
    expect_status,
    parse,
    query,
    segment,
    submit_body,
)
from .errors import JobWaitTimeoutError, ServiceUnreachableError
from .models import (
    BatchItemResult,
    BulkItemResult,
    BulkJobsBody,
    BulkJobsResult,
    ChildFailurePolicy,
    ChildJobBody,
    CreatedHook,
    CreateHookBody,
    CreateScheduleBody,
    Hook,
    HookList,
    Job,
    JobAttempts,
    JobBatchBody,
    JobBatchResult,
    JobChangedEvent,
    JobCounts,
    JobEvent,
    JobList,
    JobLogs,
    JobStatus,
    JobType,
    JobTypeList,
    Priority,
    QueueFigures,
    QueueList,
    RetryPolicy,
    Schedule,
    ScheduledJobBody,
    ScheduleList,
    ScheduleOverlap,
    SubmitJobBody,
    UpdateHookBody,
    Whoami,
)

JOBS = "/api/v1/jobs"
SCHEDULES = "/api/v1/schedules"
HOOKS = "/api/v1/hooks"


def _hook_body(
    type: str,
    input_from: Mapping[str, str] | None,
    priority: Priority | None,
    enabled: bool | None,
    description: str | None,
    secret: str | None,
) -> dict[str, Any]:
    return CreateHookBody(
        type=type,
        input_from=dict(input_from) if input_from is not None else None,
        priority=priority,
        enabled=enabled,
        description=description,
        secret=secret,
    ).to_json_body()


def _fields(include: Sequence[str] | None) -> str | None:
    """A list's ``include`` as the query says it: comma-separated, empty for none."""
    return None if include is None else ",".join(include)


class Client:
    """A blocking client of one durable-jobs API.

    ``api_key`` is the tenant's key when the API has keys configured (sent as ``Authorization: Bearer``).
    Every method raises an ``ApiError`` subclass when the API refuses (``NotFoundError``, ``ConflictError``, …),
    and ``ServiceUnreachableError`` when no answer comes. Use it as a context manager, or ``close()`` it.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url, headers=client_headers(api_key), timeout=timeout, transport=transport
        )
        self._timeout = timeout
        self.schedules = Schedules(self)
        """The schedules: ``create``, ``list``, ``get``, ``delete``, ``pause``, ``unpause``, ``trigger``."""
        self.hooks = Hooks(self)
        """The inbound webhooks: ``create``, ``list``, ``get``, ``update``, ``delete``."""

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, QueryValue] | None = None,
        json: Any = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        try:
            return self._http.request(
                method, path, params=params, json=json, timeout=self._timeout if timeout is None else timeout
            )
        except httpx.TransportError as err:
            raise ServiceUnreachableError(f"{method} {path}: {err!r}") from err

    def submit(
        self,
        type: str,
        input: Any = None,
        *,
        job_id: str | None = None,
        priority: Priority | None = None,
        wait: int | None = None,
        timeout_seconds: int | None = None,
        heartbeat_timeout_seconds: int | None = None,
        retry: RetryPolicy | None = None,
        callback_url: str | None = None,
        delay_seconds: float | None = None,
        run_at: datetime | None = None,
        children: builtins.list[ChildJobBody] | None = None,
        on_child_failure: ChildFailurePolicy | None = None,
        tags: Sequence[str] | None = None,
    ) -> Job:
        """Submits a job of ``type`` with ``input``, and answers it as it is then.

        ``job_id`` makes the submit idempotent: the same id with an identical request answers the existing job
        and starts nothing, with a different request raises ``ConflictError``. ``tags``: up to 10 ``key:value``.
        ``wait`` (0 to 300 s) holds the
        answer until the job finishes or that time passes; it is answered as it is then, finished or not.
        """
        body = submit_body(
            type,
            input,
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
            tags=tags,
        )
        timeout = None if wait is None else self._timeout + wait
        return parse(self._send("POST", JOBS, params=query(wait=wait), json=body, timeout=timeout), Job)

    def submit_batch(self, jobs: Sequence[SubmitJobBody]) -> builtins.list[BatchItemResult]:
        """Submits up to 100 jobs in one request; each item stands alone (``job`` or ``error``, by index)."""
        body = JobBatchBody(jobs=builtins.list(jobs)).to_json_body()
        return parse(self._send("POST", "/api/v1/job-batches", json=body), JobBatchResult).results

    def get(self, job_id: str) -> Job:
        return parse(self._send("GET", f"{JOBS}/{segment(job_id)}"), Job)

    def wait(self, job_id: str, timeout: float = 60.0, *, interval: float = 0.5) -> Job:
        """Polls the job every ``interval`` seconds until it finishes, and answers it then.

        Raises ``JobWaitTimeoutError`` (a ``TimeoutError``) with the job as last seen after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            if job.finished:
                return job
            left = deadline - time.monotonic()
            if left <= 0:
                raise JobWaitTimeoutError(job, timeout)
            time.sleep(min(interval, left))

    def cancel(self, job_id: str) -> Job:
        """Asks a queued or running job to stop; answers it as it is now (``ConflictError`` once it has finished)."""
        return parse(self._send("POST", f"{JOBS}/{segment(job_id)}/cancel"), Job)

    def retry(self, job_id: str) -> Job:
        """Runs a failed, timed-out or cancelled job again, same id and input (``ConflictError`` otherwise)."""
        return parse(self._send("POST", f"{JOBS}/{segment(job_id)}/retry"), Job)

    def delete(self, job_id: str) -> None:
        """Deletes a finished job (its history in Temporal); its id is free again. ``ConflictError`` while it has not
        finished: cancel it first."""
        expect_status(self._send("DELETE", f"{JOBS}/{segment(job_id)}"), 204)

    def attempts(self, job_id: str) -> JobAttempts:
        """The attempts of the job's latest run: start, end, outcome and error of each, oldest first."""
        return parse(self._send("GET", f"{JOBS}/{segment(job_id)}/attempts"), JobAttempts)

    def logs(
        self, job_id: str, attempt: int | None = None, *, after: int | None = None, limit: int | None = None
    ) -> JobLogs:
        """A page of what the job's handler logged in one attempt (the latest by default), lines with ``seq`` after
        ``after``, at most ``limit`` (1 to 1000, default 500); pass ``next_after`` back as ``after`` to read on."""
        params = query(attempt=attempt, after=after, limit=limit)
        return parse(self._send("GET", f"{JOBS}/{segment(job_id)}/logs", params=params), JobLogs)

    def cancel_many(self, job_ids: Sequence[str]) -> builtins.list[BulkItemResult]:
        """Cancels 1 to 100 jobs in one request; each answers alone (status 202 with ``job_status``, or ``error``)."""
        body = BulkJobsBody(job_ids=builtins.list(job_ids)).to_json_body()
        return parse(self._send("POST", f"{JOBS}/cancel", json=body), BulkJobsResult).results

    def retry_many(self, job_ids: Sequence[str]) -> builtins.list[BulkItemResult]:
        """Retries 1 to 100 jobs in one request; each answers alone (status 202 with ``job_status``, or ``error``)."""
        body = BulkJobsBody(job_ids=builtins.list(job_ids)).to_json_body()
        return parse(self._send("POST", f"{JOBS}/retry", json=body), BulkJobsResult).results

    def events(self, job_id: str) -> Generator[Job, None, None]:
        """The job each time it changes, from its event stream: first as it is now; the stream ends after an end
        state. Leaving the loop early closes the connection. ``follow`` gives the stream's log lines too."""
        with closing(self.follow(job_id)) as events:
            for event in events:
                if isinstance(event, JobChangedEvent):
                    yield event.job

    def follow(self, job_id: str) -> Generator[JobEvent, None, None]:
        """The job's event stream as it comes: a ``JobChangedEvent`` each time the job changes (as ``events`` gives
        them) and a ``JobLogEvent`` for each line its running attempt logs, from when the stream opened (earlier
        lines: ``logs``). Ends after an end state; leaving the loop early closes the connection."""
        path = f"{JOBS}/{segment(job_id)}/events"
        timeout = httpx.Timeout(self._timeout, read=EVENTS_READ_TIMEOUT_SECONDS)
        try:
            with self._http.stream("GET", path, headers={"accept": "text/event-stream"}, timeout=timeout) as response:
                if not response.is_success:
                    response.read()
                    raise api_error(response)
                reader = JobEventReader(response.status_code)
                for text in response.iter_text():
                    yield from reader.feed_text(text)
                yield from reader.close()
        except httpx.TransportError as err:
            raise ServiceUnreachableError(f"GET {path}: {err!r}") from err

    def list_page(
        self,
        *,
        status: JobStatus | None = None,
        type: str | None = None,
        priority: Priority | None = None,
        tags: Sequence[str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        include: Sequence[str] | None = None,
        total: bool | None = None,
    ) -> JobList:
        """One page of the tenant's jobs (``limit`` 1 to 100, default 20, fewer past 4 MiB); pass ``next_cursor`` back
        as ``cursor``. ``include``: the big fields each job carries, of ``input`` and ``result`` (default both); the
        others read None. ``tags``: only jobs carrying every one. ``total=True``: the page's ``total`` counts every
        job under the filters."""
        params = query(
            status=status,
            type=type,
            priority=priority,
            tag=tags,
            limit=limit,
            cursor=cursor,
            include=_fields(include),
            total=total,
        )
        return parse(self._send("GET", JOBS, params=params), JobList)

    def list(
        self,
        *,
        status: JobStatus | None = None,
        type: str | None = None,
        priority: Priority | None = None,
        tags: Sequence[str] | None = None,
        page_size: int | None = None,
    ) -> Generator[Job, None, None]:
        """The tenant's jobs matching the filters, newest first, fetched a page at a time as the loop goes on."""
        cursor: str | None = None
        while True:
            page = self.list_page(
                status=status, type=type, priority=priority, tags=tags, limit=page_size, cursor=cursor
            )
            yield from page.jobs
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def counts(
        self,
        *,
        status: JobStatus | None = None,
        type: str | None = None,
        priority: Priority | None = None,
        tags: Sequence[str] | None = None,
    ) -> JobCounts:
        """How many of the tenant's jobs the filters keep, in all and per status (visibility lags about a second)."""
        params = query(status=status, type=type, priority=priority, tag=tags)
        return parse(self._send("GET", f"{JOBS}/counts", params=params), JobCounts)

    def job_types(self) -> builtins.list[JobType]:
        """The registered job types, each with its input's JSON Schema and defaults."""
        return parse(self._send("GET", "/api/v1/job-types"), JobTypeList).types

    def queues(self) -> builtins.list[QueueFigures]:
        """Per priority: the task queue, its backlog and pollers, and the tenant's queued and running jobs."""
        return parse(self._send("GET", "/api/v1/queues"), QueueList).queues

    def whoami(self) -> str:
        """The tenant the API key acts as (``default`` when the API has no keys)."""
        return parse(self._send("GET", "/api/v1/whoami"), Whoami).tenant


class Schedules:
    """The schedules of a ``Client`` (``client.schedules``): Temporal Schedules submitting a job by cron or interval."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self,
        schedule_id: str,
        job: ScheduledJobBody,
        *,
        cron: str | None = None,
        timezone: str | None = None,
        interval_seconds: int | None = None,
        paused: bool | None = None,
        overlap: ScheduleOverlap | None = None,
    ) -> Schedule:
        """Creates a schedule running ``job`` by ``cron`` (read in ``timezone``, an IANA name; default UTC) or every
        ``interval_seconds`` (a taken id: conflict)."""
        body = CreateScheduleBody(
            schedule_id=schedule_id,
            cron=cron,
            timezone=timezone,
            interval_seconds=interval_seconds,
            job=job,
            paused=paused,
            overlap=overlap,
        ).to_json_body()
        return parse(self._client._send("POST", SCHEDULES, json=body), Schedule)

    def get(self, schedule_id: str) -> Schedule:
        return parse(self._client._send("GET", f"{SCHEDULES}/{segment(schedule_id)}"), Schedule)

    def delete(self, schedule_id: str) -> None:
        expect_status(self._client._send("DELETE", f"{SCHEDULES}/{segment(schedule_id)}"), 204)

    def pause(self, schedule_id: str) -> Schedule:
        return parse(self._client._send("POST", f"{SCHEDULES}/{segment(schedule_id)}/pause"), Schedule)

    def unpause(self, schedule_id: str) -> Schedule:
        return parse(self._client._send("POST", f"{SCHEDULES}/{segment(schedule_id)}/unpause"), Schedule)

    def trigger(self, schedule_id: str) -> Schedule:
        """Runs the schedule's job now, whatever its overlap policy."""
        return parse(self._client._send("POST", f"{SCHEDULES}/{segment(schedule_id)}/trigger"), Schedule)

    def list(self) -> builtins.list[Schedule]:
        return parse(self._client._send("GET", SCHEDULES), ScheduleList).schedules


class Hooks:
    """The inbound webhooks of a ``Client`` (``client.hooks``): signed POSTs from third parties that submit jobs."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self,
        type: str,
        *,
        input_from: Mapping[str, str] | None = None,
        priority: Priority | None = None,
        enabled: bool | None = None,
        description: str | None = None,
        secret: str | None = None,
    ) -> CreatedHook:
        """Defines a hook; the answer's ``secret`` is shown this once (give it to the sender)."""
        body = _hook_body(type, input_from, priority, enabled, description, secret)
        return parse(self._client._send("POST", HOOKS, json=body), CreatedHook)

    def list(self) -> builtins.list[Hook]:
        return parse(self._client._send("GET", HOOKS), HookList).hooks

    def get(self, hook_id: str) -> Hook:
        return parse(self._client._send("GET", f"{HOOKS}/{segment(hook_id)}"), Hook)

    def update(self, hook_id: str, *, enabled: bool) -> Hook:
        """Disables (deliveries answer 409) or enables the hook."""
        body = UpdateHookBody(enabled=enabled).to_json_body()
        return parse(self._client._send("PATCH", f"{HOOKS}/{segment(hook_id)}", json=body), Hook)

    def delete(self, hook_id: str) -> None:
        expect_status(self._client._send("DELETE", f"{HOOKS}/{segment(hook_id)}"), 204)


class AsyncClient:
    """An asyncio client of one durable-jobs API: ``Client``'s methods as coroutines, ``list`` and ``events`` as
    async iterators. Use it as an async context manager, or ``await aclose()``."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=client_headers(api_key), timeout=timeout, transport=transport
        )
        self._timeout = timeout
        self.schedules = AsyncSchedules(self)
        """The schedules: ``create``, ``list``, ``get``, ``delete``, ``pause``, ``unpause``, ``trigger``."""
        self.hooks = AsyncHooks(self)
        """The inbound webhooks: ``create``, ``list``, ``get``, ``update``, ``delete``."""

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, QueryValue] | None = None,
        json: Any = None,
        timeout: float | None = None,
    ) -> httpx.Response:
        try:
            return await self._http.request(
                method, path, params=params, json=json, timeout=self._timeout if timeout is None else timeout
            )
        except httpx.TransportError as err:
            raise ServiceUnreachableError(f"{method} {path}: {err!r}") from err

    async def submit(
        self,
        type: str,
        input: Any = None,
        *,
        job_id: str | None = None,
        priority: Priority | None = None,
        wait: int | None = None,
        timeout_seconds: int | None = None,
        heartbeat_timeout_seconds: int | None = None,
        retry: RetryPolicy | None = None,
        callback_url: str | None = None,
        delay_seconds: float | None = None,
        run_at: datetime | None = None,
        children: builtins.list[ChildJobBody] | None = None,
        on_child_failure: ChildFailurePolicy | None = None,
        tags: Sequence[str] | None = None,
    ) -> Job:
        """Submits a job of ``type`` with ``input`` (see ``Client.submit``)."""
        body = submit_body(
            type,
            input,
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
            tags=tags,
        )
        timeout = None if wait is None else self._timeout + wait
        return parse(await self._send("POST", JOBS, params=query(wait=wait), json=body, timeout=timeout), Job)

    async def submit_batch(self, jobs: Sequence[SubmitJobBody]) -> builtins.list[BatchItemResult]:
        body = JobBatchBody(jobs=builtins.list(jobs)).to_json_body()
        return parse(await self._send("POST", "/api/v1/job-batches", json=body), JobBatchResult).results

    async def get(self, job_id: str) -> Job:
        return parse(await self._send("GET", f"{JOBS}/{segment(job_id)}"), Job)

    async def wait(self, job_id: str, timeout: float = 60.0, *, interval: float = 0.5) -> Job:
        """Polls the job until it finishes (see ``Client.wait``)."""
        deadline = time.monotonic() + timeout
        while True:
            job = await self.get(job_id)
            if job.finished:
                return job
            left = deadline - time.monotonic()
            if left <= 0:
                raise JobWaitTimeoutError(job, timeout)
            await asyncio.sleep(min(interval, left))

    async def cancel(self, job_id: str) -> Job:
        return parse(await self._send("POST", f"{JOBS}/{segment(job_id)}/cancel"), Job)

    async def retry(self, job_id: str) -> Job:
        return parse(await self._send("POST", f"{JOBS}/{segment(job_id)}/retry"), Job)

    async def delete(self, job_id: str) -> None:
        expect_status(await self._send("DELETE", f"{JOBS}/{segment(job_id)}"), 204)

    async def attempts(self, job_id: str) -> JobAttempts:
        return parse(await self._send("GET", f"{JOBS}/{segment(job_id)}/attempts"), JobAttempts)

    async def logs(
        self, job_id: str, attempt: int | None = None, *, after: int | None = None, limit: int | None = None
    ) -> JobLogs:
        """A page of what the job's handler logged in one attempt (the latest by default), lines with ``seq`` after
        ``after``, at most ``limit`` (1 to 1000, default 500); pass ``next_after`` back as ``after`` to read on."""
        params = query(attempt=attempt, after=after, limit=limit)
        return parse(await self._send("GET", f"{JOBS}/{segment(job_id)}/logs", params=params), JobLogs)

    async def cancel_many(self, job_ids: Sequence[str]) -> builtins.list[BulkItemResult]:
        body = BulkJobsBody(job_ids=builtins.list(job_ids)).to_json_body()
        return parse(await self._send("POST", f"{JOBS}/cancel", json=body), BulkJobsResult).results

    async def retry_many(self, job_ids: Sequence[str]) -> builtins.list[BulkItemResult]:
        body = BulkJobsBody(job_ids=builtins.list(job_ids)).to_json_body()
        return parse(await self._send("POST", f"{JOBS}/retry", json=body), BulkJobsResult).results

    async def events(self, job_id: str) -> AsyncGenerator[Job, None]:
        """The job each time it changes (see ``Client.events``). To close the connection on leaving the loop
        early, iterate inside ``contextlib.aclosing(client.events(job_id))``."""
        async with aclosing(self.follow(job_id)) as events:
            async for event in events:
                if isinstance(event, JobChangedEvent):
                    yield event.job

    async def follow(self, job_id: str) -> AsyncGenerator[JobEvent, None]:
        """The job's changes and its running attempt's log lines (see ``Client.follow``). To close the connection
        on leaving the loop early, iterate inside ``contextlib.aclosing(client.follow(job_id))``."""
        path = f"{JOBS}/{segment(job_id)}/events"
        timeout = httpx.Timeout(self._timeout, read=EVENTS_READ_TIMEOUT_SECONDS)
        try:
            async with self._http.stream(
                "GET", path, headers={"accept": "text/event-stream"}, timeout=timeout
            ) as response:
                if not response.is_success:
                    await response.aread()
                    raise api_error(response)
                reader = JobEventReader(response.status_code)
                async for text in response.aiter_text():
                    for event in reader.feed_text(text):
                        yield event
                for event in reader.close():
                    yield event
        except httpx.TransportError as err:
            raise ServiceUnreachableError(f"GET {path}: {err!r}") from err

    async def list_page(
        self,
        *,
        status: JobStatus | None = None,
        type: str | None = None,
        priority: Priority | None = None,
        tags: Sequence[str] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        include: Sequence[str] | None = None,
        total: bool | None = None,
    ) -> JobList:
        params = query(
            status=status,
            type=type,
            priority=priority,
            tag=tags,
            limit=limit,
            cursor=cursor,
            include=_fields(include),
            total=total,
        )
        return parse(await self._send("GET", JOBS, params=params), JobList)

    async def list(
        self,
        *,
        status: JobStatus | None = None,
        type: str | None = None,
        priority: Priority | None = None,
        tags: Sequence[str] | None = None,
        page_size: int | None = None,
    ) -> AsyncGenerator[Job, None]:
        """The tenant's jobs matching the filters, newest first, a page at a time (``async for``)."""
        cursor: str | None = None
        while True:
            page = await self.list_page(
                status=status, type=type, priority=priority, tags=tags, limit=page_size, cursor=cursor
            )
            for job in page.jobs:
                yield job
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def counts(
        self,
        *,
        status: JobStatus | None = None,
        type: str | None = None,
        priority: Priority | None = None,
        tags: Sequence[str] | None = None,
    ) -> JobCounts:
        """How many of the tenant's jobs the filters keep, in all and per status (visibility lags about a second)."""
        params = query(status=status, type=type, priority=priority, tag=tags)
        return parse(await self._send("GET", f"{JOBS}/counts", params=params), JobCounts)

    async def job_types(self) -> builtins.list[JobType]:
        return parse(await self._send("GET", "/api/v1/job-types"), JobTypeList).types

    async def queues(self) -> builtins.list[QueueFigures]:
        return parse(await self._send("GET", "/api/v1/queues"), QueueList).queues

    async def whoami(self) -> str:
        return parse(await self._send("GET", "/api/v1/whoami"), Whoami).tenant


class AsyncSchedules:
    """The schedules of an ``AsyncClient`` (``client.schedules``)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self,
        schedule_id: str,
        job: ScheduledJobBody,
        *,
        cron: str | None = None,
        timezone: str | None = None,
        interval_seconds: int | None = None,
        paused: bool | None = None,
        overlap: ScheduleOverlap | None = None,
    ) -> Schedule:
        body = CreateScheduleBody(
            schedule_id=schedule_id,
            cron=cron,
            timezone=timezone,
            interval_seconds=interval_seconds,
            job=job,
            paused=paused,
            overlap=overlap,
        ).to_json_body()
        return parse(await self._client._send("POST", SCHEDULES, json=body), Schedule)

    async def get(self, schedule_id: str) -> Schedule:
        return parse(await self._client._send("GET", f"{SCHEDULES}/{segment(schedule_id)}"), Schedule)

    async def delete(self, schedule_id: str) -> None:
        expect_status(await self._client._send("DELETE", f"{SCHEDULES}/{segment(schedule_id)}"), 204)

    async def pause(self, schedule_id: str) -> Schedule:
        return parse(await self._client._send("POST", f"{SCHEDULES}/{segment(schedule_id)}/pause"), Schedule)

    async def unpause(self, schedule_id: str) -> Schedule:
        return parse(await self._client._send("POST", f"{SCHEDULES}/{segment(schedule_id)}/unpause"), Schedule)

    async def trigger(self, schedule_id: str) -> Schedule:
        return parse(await self._client._send("POST", f"{SCHEDULES}/{segment(schedule_id)}/trigger"), Schedule)

    async def list(self) -> builtins.list[Schedule]:
        return parse(await self._client._send("GET", SCHEDULES), ScheduleList).schedules


class AsyncHooks:
    """The inbound webhooks of an ``AsyncClient`` (``client.hooks``)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self,
        type: str,
        *,
        input_from: Mapping[str, str] | None = None,
        priority: Priority | None = None,
        enabled: bool | None = None,
        description: str | None = None,
        secret: str | None = None,
    ) -> CreatedHook:
        """Defines a hook; the answer's ``secret`` is shown this once (give it to the sender)."""
        body = _hook_body(type, input_from, priority, enabled, description, secret)
        return parse(await self._client._send("POST", HOOKS, json=body), CreatedHook)

    async def list(self) -> builtins.list[Hook]:
        return parse(await self._client._send("GET", HOOKS), HookList).hooks

    async def get(self, hook_id: str) -> Hook:
        return parse(await self._client._send("GET", f"{HOOKS}/{segment(hook_id)}"), Hook)

    async def update(self, hook_id: str, *, enabled: bool) -> Hook:
        body = UpdateHookBody(enabled=enabled).to_json_body()
        return parse(await self._client._send("PATCH", f"{HOOKS}/{segment(hook_id)}", json=body), Hook)

    async def delete(self, hook_id: str) -> None:
        expect_status(await self._client._send("DELETE", f"{HOOKS}/{segment(hook_id)}"), 204)
