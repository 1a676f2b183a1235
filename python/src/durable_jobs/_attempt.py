"""The activity of one job type: what the service's job workflow schedules on the type's task queues
(``docs/worker-protocol.md``, "Running an attempt")."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import dataclasses
import logging
import math
import threading
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from . import _protocol as protocol
from ._attempt_logs import AttemptLogBuffer
from .context import JobContext
from .job_type import DeclaredJobType, ResultInvalidError, UnrecoverableError
from .models import Progress

#: Progress and liveness go to the server this often; a cancellation is seen on the heartbeat after it.
HEARTBEAT_INTERVAL_SECONDS = 1.0

#: A burst of progress reports heartbeats at most this often, the newest report in a trailing heartbeat: the SDK sends
#: one heartbeat per 500 ms whatever it is handed, and each one handed it is a copy of the kept lines.
REPORT_BEAT_EVERY_SECONDS = 0.1

#: How long an attempt runs before its workflow is told that it started (worker protocol, "Running an attempt").
ATTEMPT_STARTED_AFTER_SECONDS = 0.25

#: The tenant of a job whose attempt names none (a job workflow from before tenants were passed).
_DEFAULT_TENANT = "default"

#: Tells the job workflow that attempt ``n`` began at ``started_at`` (ISO 8601, this machine's clock):
#: ``(workflow_id, run_id, n, started_at)``.
NotifyStarted = Callable[[str, str, int, str], Awaitable[None]]

#: Ends the attempt of this task token as cancelled, with these details (through the client: the SDK's own
#: cancellation carries none).
ReportCancelled = Callable[[bytes, dict[str, Any]], Awaitable[None]]

log = logging.getLogger("durable_jobs.worker")


@dataclasses.dataclass(frozen=True)
class JobAttempt:
    """An attempt of a job, as the worker running it knows it: what a stop that abandons it names."""

    job_id: str
    #: The job type's name.
    job_type: str
    #: From 1.
    attempt: int


def _heartbeat_details(progress: Progress | None, logs: AttemptLogBuffer) -> dict[str, Any]:
    return {"progress": None if progress is None else progress.model_dump(mode="json"), "logs": logs.snapshot()}


def _failure_with_logs(err: Exception, logs: AttemptLogBuffer) -> ApplicationError:
    """The attempt's failure with its log lines as the last of its details: an ApplicationError keeps its type,
    retryability and details; any other exception becomes the one Temporal would make of it (its class name as
    the type)."""
    kept = {"logs": logs.snapshot()}
    if isinstance(err, ApplicationError):
        return ApplicationError(
            err.message,
            *err.details,
            kept,
            type=err.type,
            non_retryable=err.non_retryable,
            next_retry_delay=err.next_retry_delay,
        )
    return ApplicationError(str(err), kept, type=type(err).__name__)


def attempt_activity(
    job_type: DeclaredJobType[Any, Any],
    notify_started: NotifyStarted,
    executor: concurrent.futures.Executor,
    report_cancelled: ReportCancelled | None = None,
    running: dict[bytes, JobAttempt] | None = None,
) -> Callable[[Any, dict[str, Any]], Awaitable[dict[str, Any]]]:
    """The activity named after the job type: ``(input, attempt)`` → ``{result, progress, logs, startedAt}``. It
    heartbeats every second from the first (a report heartbeats at once from then on), tells the job workflow the
    attempt started (queued → running, and when), and ends as cancelled when cancelled, whatever the handler made of
    it, its log lines with it when ``report_cancelled`` is given. While it runs, the attempt is in ``running`` (by its
    task token), when given."""

    @activity.defn(name=job_type.name)
    async def attempt(input: Any, attempt: dict[str, Any]) -> dict[str, Any]:
        # The job's start as the signal and the outcome report it: now, not when the signal goes out 250 ms later.
        started_at = protocol.now_iso()
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        # activity.heartbeat reads the attempt from a context variable: keep this context for calls from elsewhere.
        in_activity = contextvars.copy_context()

        ended = False
        beaten = False
        last_beat_at = -math.inf
        # The heartbeat that reports within REPORT_BEAT_EVERY_SECONDS of the last one wait for: it carries the newest.
        report_beat: asyncio.TimerHandle | None = None

        def heartbeat() -> None:
            nonlocal last_beat_at, report_beat
            if report_beat is not None:
                report_beat.cancel()
                report_beat = None
            # A thread handler may still report after a cancelled attempt ended: nothing is heartbeating then. A report
            # before the first beat waits for it. A cancelled attempt heartbeats no more, as in every SDK of the
            # protocol: a handler that ignores its cancellation keeps its job running only until its heartbeat timeout.
            if not ended and beaten and not in_activity.run(activity.is_cancelled):
                last_beat_at = loop.time()
                in_activity.run(activity.heartbeat, _heartbeat_details(ctx.last_progress, ctx.logs))

        def beat() -> None:
            nonlocal beaten
            beaten = True
            heartbeat()

        def report_on_loop() -> None:
            nonlocal report_beat
            if ended or not beaten or report_beat is not None:
                return
            wait = last_beat_at + REPORT_BEAT_EVERY_SECONDS - loop.time()
            if wait <= 0:
                heartbeat()
            else:
                report_beat = loop.call_later(wait, heartbeat)

        # A thread's report asks the loop once, and asks again only once the loop took that: reports made before it
        # runs ride on it (the heartbeat reads the newest progress as it runs). A callback per report piled up without
        # bound behind a thread reporting faster than the loop heartbeats.
        asked_from_thread = False

        def report_asked_from_thread() -> None:
            nonlocal asked_from_thread
            asked_from_thread = False  # before the heartbeat reads the progress: a later report asks again
            report_on_loop()

        def report(_progress: Progress) -> None:
            nonlocal asked_from_thread
            if threading.get_ident() == loop_thread:
                report_on_loop()
            elif not ended and not asked_from_thread:
                asked_from_thread = True
                with contextlib.suppress(RuntimeError):  # the loop closed under a thread outliving its worker
                    loop.call_soon_threadsafe(report_asked_from_thread)

        ctx = JobContext(
            job_id=attempt["jobId"],
            tenant=attempt.get("tenant") or _DEFAULT_TENANT,
            attempt=attempt["attempt"],
            child_results=attempt.get("childResults"),
            report=report,
            logger=log,
        )
        # The first beat comes after an interval, not at once, and carries what the handler reported until
        # then: an attempt that ends sooner costs the server no heartbeat (a write) at all, and its outcome carries its
        # progress. Within half the heartbeat timeout, so that a beat always comes in time.
        info = activity.info()
        beating = asyncio.create_task(_beat(beat, _beat_every_seconds(info.heartbeat_timeout)))
        telling_started = asyncio.create_task(
            _tell_started(notify_started, info.workflow_id or "", info.workflow_run_id or "", ctx, started_at)
        )
        if running is not None:
            running[info.task_token] = JobAttempt(ctx.job_id, job_type.name, ctx.attempt)
        try:
            parsed = _parse_input(job_type, input, ctx.child_results)
            if job_type.is_async:
                result = await job_type.handler(parsed, ctx)
            else:
                result = await _in_thread(executor, job_type, parsed, ctx)
            if activity.is_cancelled():
                raise asyncio.CancelledError()
            try:
                dumped = job_type.dump_result(result)
            except ResultInvalidError as err:
                raise ApplicationError(
                    f"the handler's result does not match its declared schema: {err}",
                    type=protocol.RESULT_REJECTED_TYPE,
                    non_retryable=True,
                ) from err
            last = ctx.last_progress
            return {
                "result": dumped,
                "progress": None if last is None else last.model_dump(mode="json"),
                "logs": ctx.logs.snapshot(),
                "startedAt": started_at,
            }
        except asyncio.CancelledError:
            await _end_cancelled(ctx, report_cancelled)
            raise
        except UnrecoverableError as err:
            raise ApplicationError(
                str(err), {"logs": ctx.logs.snapshot()}, type=protocol.UNRECOVERABLE_ERROR_TYPE, non_retryable=True
            ) from err
        except Exception as err:
            if activity.is_cancelled():
                # The handler's own reaction to the cancellation: the attempt still ends as cancelled.
                await _end_cancelled(ctx, report_cancelled)
                raise asyncio.CancelledError() from None
            raise _failure_with_logs(err, ctx.logs) from err
        finally:
            if running is not None:
                running.pop(info.task_token, None)
            ended = True
            beating.cancel()
            if report_beat is not None:
                report_beat.cancel()
            telling_started.cancel()

    return attempt


async def _end_cancelled(ctx: JobContext, report_cancelled: ReportCancelled | None) -> None:
    """Ends a cancelled attempt with its log lines as its cancellation's details (``docs/worker-protocol.md``,
    "Logs"), when a client cancelled it: the SDK (temporalio 1.35) reports a cancellation without details, so the
    attempt reports its own through the client and the SDK's task completes asynchronously, as done. Returns when
    the SDK's cancellation is the attempt's end instead: another cause (a worker shutdown, a timeout), or the report
    failed."""
    ctx.cancelled.set()
    details = activity.cancellation_details()
    if report_cancelled is None or details is None or not details.cancel_requested:
        return
    try:
        await report_cancelled(activity.info().task_token, {"logs": ctx.logs.snapshot()})
    except Exception as err:
        log.warning("could not send the cancelled attempt's log lines: %s", err)
        return
    activity.raise_complete_async()


def _beat_every_seconds(heartbeat_timeout: timedelta | None) -> float:
    if heartbeat_timeout is None:
        return HEARTBEAT_INTERVAL_SECONDS
    return min(HEARTBEAT_INTERVAL_SECONDS, heartbeat_timeout.total_seconds() / 2)


async def _tell_started(
    notify_started: NotifyStarted, workflow_id: str, run_id: str, ctx: JobContext, started_at: str
) -> None:
    """Tells the job workflow that the attempt started, and when, once it has run a while: the signal and the
    workflow task it wakes are a fifth of a short job's cost to Temporal, and until then the API reads the start from
    the pending attempt (issue 25)."""
    await asyncio.sleep(ATTEMPT_STARTED_AFTER_SECONDS)
    try:
        await notify_started(workflow_id, run_id, ctx.attempt, started_at)
    except Exception as err:
        ctx.log.warning("could not report the attempt started to its job: %s", err)


async def _beat(beat: Callable[[], None], every_seconds: float) -> None:
    while True:
        await asyncio.sleep(every_seconds)
        beat()


def _parse_input(job_type: DeclaredJobType[Any, Any], input: Any, child_results: list[Any] | None) -> Any:
    if child_results is not None and isinstance(input, dict):
        # A parent's handler gets its children's ends in its input, when its model has room for them.
        fields = job_type.input_model.model_fields
        if any("childResults" in (name, field.alias) for name, field in fields.items()):
            input = {**input, "childResults": child_results}
    try:
        return job_type.parse_input(input)
    except ValidationError as err:
        # The API checked the input against the declaration in force; this worker's differs (a rolling upgrade),
        # so another attempt, maybe on an upgraded worker, may run it.
        raise ApplicationError(
            f"the input does not match this worker's declaration of {job_type.name}: {err}",
            type=protocol.INPUT_REJECTED_TYPE,
        ) from err


async def _in_thread(
    executor: concurrent.futures.Executor, job_type: DeclaredJobType[Any, Any], parsed: Any, ctx: JobContext
) -> Any:
    """Runs a plain ``def`` handler in the worker's thread pool while the event loop heartbeats for it. When the
    attempt is cancelled, ``ctx.cancelled`` is set and the attempt ends only once the handler has returned: the job
    turns ``cancelled`` when its attempt has really stopped (or at its heartbeat timeout, as nothing heartbeats for
    it any more)."""
    running = asyncio.get_running_loop().run_in_executor(
        executor, contextvars.copy_context().run, job_type.handler, parsed, ctx
    )
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        ctx.cancelled.set()
        with contextlib.suppress(Exception):
            await asyncio.wait({running})
        raise
