"""One attempt in Temporal's activity test environment (no server): heartbeats, progress from the loop and from
threads, cancellation of async and thread handlers, and the failures the protocol names."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from pydantic import BaseModel
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from durable_jobs import JobContext, UnrecoverableError, job_type
from durable_jobs._attempt import attempt_activity

pytestmark = pytest.mark.anyio

#: What an attempt that logged nothing keeps.
NO_LINES = {"lines": [], "dropped": 0}

ATTEMPT = {"jobId": "report-42", "tenant": "acme", "attempt": 2}


class Steps(BaseModel):
    steps: int


@job_type(name="async-steps")
async def async_steps(input: Steps, ctx: JobContext) -> dict[str, Any]:
    for step in range(input.steps):
        await ctx.progress(100 * step / input.steps, f"step {step}")
        await asyncio.sleep(0.05)
    return {"job": ctx.job_id, "tenant": ctx.tenant, "attempt": ctx.attempt}


@job_type(name="thread-steps")
def thread_steps(input: Steps, ctx: JobContext) -> dict[str, Any]:
    assert threading.current_thread() is not threading.main_thread()
    for step in range(input.steps):
        ctx.progress(100 * step / input.steps, f"step {step}")
        if ctx.cancelled.wait(0.05):
            return {"stopped_at": step}
    ctx.progress(100, "done")
    return {"steps": input.steps}


@job_type(name="thread-ignores-cancel")
def thread_ignores_cancel(input: Steps, ctx: JobContext) -> dict[str, Any]:
    """Never looks at ``ctx.cancelled``, and reports progress all along."""
    for step in range(input.steps):
        ctx.progress(100 * step / input.steps)
        time.sleep(0.05)
    return {"steps": input.steps}


@job_type(name="async-ignores-cancel")
async def async_ignores_cancel(input: Steps, ctx: JobContext) -> dict[str, Any]:
    """Swallows its cancellation, and reports progress all along."""
    for step in range(input.steps):
        with contextlib.suppress(asyncio.CancelledError):
            await ctx.progress(100 * step / input.steps)
            await asyncio.sleep(0.05)
    return {"steps": input.steps}


@job_type(name="fails")
async def fails(input: Steps, ctx: JobContext) -> None:
    if input.steps == 0:
        raise UnrecoverableError("no steps at all")
    raise RuntimeError("try again")


class Strict(BaseModel):
    rows: int


@job_type(name="bad-result")
async def bad_result(input: Steps, ctx: JobContext) -> Strict:
    return {"rows": "many"}  # type: ignore[return-value]


@pytest.fixture
def executor() -> Iterator[concurrent.futures.ThreadPoolExecutor]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        yield pool


class Recorded:
    def __init__(self) -> None:
        self.heartbeats: list[Any] = []
        self.started: list[tuple[str, str, int, str]] = []
        #: When each signal went out, by this machine's clock.
        self.signalled_at: list[datetime] = []
        self.env = ActivityEnvironment()
        self.env.on_heartbeat = self._heartbeat
        #: Set at the third heartbeat: the handler is well under way.
        self.under_way = asyncio.Event()

    def _heartbeat(self, *details: Any) -> None:
        self.heartbeats.append(details[0])
        if len(self.heartbeats) >= 3:
            self.under_way.set()

    async def notify_started(self, workflow_id: str, run_id: str, attempt: int, started_at: str) -> None:
        self.started.append((workflow_id, run_id, attempt, started_at))
        self.signalled_at.append(datetime.now(timezone.utc))


def _time(iso: str) -> datetime:
    """A time the attempt reported: ISO 8601 in UTC (``Z``), to the millisecond."""
    assert iso.endswith("Z"), iso
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


async def test_an_attempt_shorter_than_250_ms_returns_result_and_progress_with_no_heartbeat_and_no_signal(
    executor: concurrent.futures.Executor,
) -> None:
    recorded = Recorded()
    activity = attempt_activity(async_steps, recorded.notify_started, executor)
    now = datetime.now(timezone.utc)
    began = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as the attempt writes it: to the millisecond
    outcome = await recorded.env.run(activity, {"steps": 2}, ATTEMPT)
    ended = datetime.now(timezone.utc)
    # No signal tells the workflow when a short attempt started: its outcome does.
    assert began <= _time(outcome.pop("startedAt")) <= ended
    assert outcome == {
        "result": {"job": "report-42", "tenant": "acme", "attempt": 2},
        "progress": {"percent": 50.0, "message": "step 1"},
        "logs": NO_LINES,
    }
    assert recorded.heartbeats == [], "the first beat comes after a second, and the outcome carries the progress"
    assert recorded.started == [], "the workflow hears of an attempt's start only once it has run 250 ms"


async def test_an_attempt_that_runs_past_250_ms_tells_its_workflow_once_when_it_began(
    executor: concurrent.futures.Executor,
) -> None:
    recorded = Recorded()
    outcome = await recorded.env.run(
        attempt_activity(async_steps, recorded.notify_started, executor), {"steps": 10}, ATTEMPT
    )
    started_at = outcome["startedAt"]
    assert recorded.started == [("test", "test-run", 2, started_at)], "the signal and the outcome say the same start"
    waited = (recorded.signalled_at[0] - _time(started_at)).total_seconds()
    assert waited >= 0.25, f"the start is taken as the attempt begins, not as the signal goes out ({waited} s before)"


async def test_a_thread_handlers_progress_heartbeats_from_the_loop(executor: concurrent.futures.Executor) -> None:
    recorded = Recorded()
    outcome = await recorded.env.run(
        attempt_activity(thread_steps, recorded.notify_started, executor),
        {"steps": 30},
        {
            "jobId": "j",
            "attempt": 1,
        },
    )
    done = {"percent": 100.0, "message": "done"}
    assert isinstance(outcome.pop("startedAt"), str)
    assert outcome == {"result": {"steps": 30}, "progress": done, "logs": NO_LINES}
    assert recorded.heartbeats[0]["progress"] is not None, "the first beat carries the reports before it"
    # The reports after it heartbeat too (done, within 100 ms of the last, is the outcome's).
    assert recorded.heartbeats[-1]["progress"]["percent"] > recorded.heartbeats[0]["progress"]["percent"]


async def test_a_missing_tenant_is_default_and_a_failed_signal_does_not_stop_the_attempt(
    executor: concurrent.futures.Executor,
) -> None:
    recorded = Recorded()

    async def unreachable(workflow_id: str, run_id: str, attempt: int, started_at: str) -> None:
        raise RuntimeError("no workflow")

    outcome = await recorded.env.run(
        attempt_activity(async_steps, unreachable, executor), {"steps": 10}, {"jobId": "j", "attempt": 1}
    )
    assert outcome["result"]["tenant"] == "default"


async def test_it_heartbeats_every_second_while_the_handler_runs(executor: concurrent.futures.Executor) -> None:
    recorded = Recorded()
    began = time.monotonic()
    await recorded.env.run(attempt_activity(thread_steps, recorded.notify_started, executor), {"steps": 45}, ATTEMPT)
    took = time.monotonic() - began
    assert took >= 2
    # After the first beat, the 50 ms steps' reports heartbeat every 100 ms (at least 1.25 s of them, about 12), and
    # the loop beats every second besides.
    assert len(recorded.heartbeats) >= 8 + int(took)


async def _cancelled_under_way(
    handler: Any, executor: concurrent.futures.Executor, steps: int
) -> tuple[Recorded, asyncio.Future[Any], float]:
    """An attempt of ``handler`` cancelled once it is well under way (its third heartbeat): its run, and when."""
    recorded = Recorded()
    running = asyncio.ensure_future(
        recorded.env.run(attempt_activity(handler, recorded.notify_started, executor), {"steps": steps}, ATTEMPT)
    )
    await asyncio.wait_for(recorded.under_way.wait(), 5)
    asked = time.monotonic()
    recorded.env.cancel()
    return recorded, running, asked


@pytest.mark.parametrize("handler", [async_steps, thread_steps])
async def test_a_cancelled_attempt_ends_cancelled_and_the_handler_has_stopped(
    handler: Any, executor: concurrent.futures.Executor
) -> None:
    recorded, running, asked = await _cancelled_under_way(handler, executor, 1000)
    with pytest.raises(asyncio.CancelledError):
        await running
    assert time.monotonic() - asked < 0.5
    count = len(recorded.heartbeats)
    await asyncio.sleep(0.2)
    assert len(recorded.heartbeats) == count, "nothing heartbeats after the attempt ended"


@pytest.mark.parametrize("handler", [async_ignores_cancel, thread_ignores_cancel])
async def test_a_cancelled_attempt_whose_handler_goes_on_heartbeats_no_more(
    handler: Any, executor: concurrent.futures.Executor
) -> None:
    # Its job then turns cancelled at its heartbeat timeout, as the protocol says, not when the handler returns.
    recorded, running, _asked = await _cancelled_under_way(handler, executor, 50)
    await asyncio.sleep(0.05)
    count = len(recorded.heartbeats)
    await asyncio.sleep(1.2)
    assert len(recorded.heartbeats) == count, "the handler's reports and the loop's beat after the cancellation"
    with pytest.raises(asyncio.CancelledError):
        await running


async def test_errors_unrecoverable_retryable_and_rejected_inputs_and_results(
    executor: concurrent.futures.Executor,
) -> None:
    recorded = Recorded()
    with pytest.raises(ApplicationError) as unrecoverable:
        await recorded.env.run(attempt_activity(fails, recorded.notify_started, executor), {"steps": 0}, ATTEMPT)
    assert (unrecoverable.value.type, unrecoverable.value.non_retryable) == ("UnrecoverableError", True)
    assert unrecoverable.value.message == "no steps at all"

    # Any other exception fails the attempt retryably as Temporal would, its class name the type, its lines the detail.
    with pytest.raises(ApplicationError, match="try again") as retryable:
        await recorded.env.run(attempt_activity(fails, recorded.notify_started, executor), {"steps": 1}, ATTEMPT)
    assert (retryable.value.type, retryable.value.non_retryable) == ("RuntimeError", False)
    assert retryable.value.details[-1] == {"logs": NO_LINES}

    with pytest.raises(ApplicationError) as rejected:
        await recorded.env.run(attempt_activity(fails, recorded.notify_started, executor), {"steps": "x"}, ATTEMPT)
    assert (rejected.value.type, rejected.value.non_retryable) == ("InputRejected", False)

    with pytest.raises(ApplicationError) as result:
        await recorded.env.run(attempt_activity(bad_result, recorded.notify_started, executor), {"steps": 1}, ATTEMPT)
    assert (result.value.type, result.value.non_retryable) == ("ResultRejected", True)


def test_progress_is_checked_and_the_log_names_the_job(caplog: pytest.LogCaptureFixture) -> None:
    reported: list[Any] = []
    ctx = JobContext(
        job_id="j-1", tenant="t", attempt=3, report=reported.append, logger=__import__("logging").getLogger("x")
    )
    for bad in [-1, 101, float("nan")]:
        with pytest.raises(ValueError, match="percentage from 0 to 100"):
            ctx.progress(bad)
    ctx.progress(None, "warming up")
    assert ctx.last_progress is not None
    assert ctx.last_progress.percent is None
    with caplog.at_level("INFO"):
        ctx.log.info("hello %s", "there")
    [record] = caplog.records
    assert record.getMessage() == "[job j-1 attempt 3] hello there"
    assert (record.job_id, record.attempt, record.tenant) == ("j-1", 3, "t")  # type: ignore[attr-defined]


#: Reports of the flood below, all after the first beat.
FLOOD_REPORTS = 20_000


@job_type(name="thread-flood")
def thread_flood(input: Steps, ctx: JobContext) -> dict[str, Any]:
    """Keeps 1,000 lines, then reports progress as fast as a loop can (a report per row of a big file)."""
    for line in range(1000):
        ctx.log.debug("row %d read", line)
    time.sleep(1.2)
    for report in range(FLOOD_REPORTS):
        ctx.progress(100 * report / FLOOD_REPORTS)
    ctx.progress(100, "done")
    return {"reports": FLOOD_REPORTS}


async def test_a_thread_handlers_flood_of_reports_costs_the_loop_no_heartbeat_each(
    executor: concurrent.futures.Executor,
) -> None:
    # A report from a thread asks the loop for a heartbeat; asked again before the loop got to it, the one heartbeat
    # still carries the newest progress. One loop callback per report instead piled up without bound behind a
    # thread that reports faster than the loop heartbeats (each a copy of the kept lines), and held the attempt's end
    # until the loop had worked through them.
    recorded = Recorded()
    outcome = await recorded.env.run(
        attempt_activity(thread_flood, recorded.notify_started, executor), {"steps": 1}, ATTEMPT
    )
    assert outcome["result"] == {"reports": FLOOD_REPORTS}
    assert outcome["progress"] == {"percent": 100.0, "message": "done"}
    assert recorded.heartbeats[0]["progress"] is None, "the first beat came before the flood"
    assert recorded.heartbeats[-1]["progress"] is not None, "the flood's reports reached heartbeats"
    assert len(recorded.heartbeats) < FLOOD_REPORTS / 20, f"{len(recorded.heartbeats)} heartbeats"


@job_type(name="async-flood")
async def async_flood(input: Steps, ctx: JobContext) -> dict[str, Any]:
    """The same in an async handler: a report per row, each awaited (one turn of the loop)."""
    for line in range(1000):
        ctx.log.debug("row %d read", line)
    await asyncio.sleep(1.2)
    for report in range(FLOOD_REPORTS):
        await ctx.progress(100 * report / FLOOD_REPORTS)
    await ctx.progress(100, "done")
    return {"reports": FLOOD_REPORTS}


@pytest.mark.parametrize("handler", [async_flood, thread_flood])
async def test_a_flood_of_reports_heartbeats_at_most_every_100_ms_the_last_report_last(
    handler: Any, executor: concurrent.futures.Executor
) -> None:
    # The SDK sends one heartbeat per 500 ms whatever it is handed, and each one handed it is a copy of the kept lines:
    # reports within 100 ms of a heartbeat wait for one more, which carries the newest (as the TypeScript SDK does).
    # An async handler's every report was a heartbeat: 20,000 copies of 1,000 lines for 20,000 reports.
    recorded = Recorded()
    began = time.monotonic()
    outcome = await recorded.env.run(
        attempt_activity(handler, recorded.notify_started, executor), {"steps": 1}, ATTEMPT
    )
    took = time.monotonic() - began
    assert outcome["progress"] == {"percent": 100.0, "message": "done"}
    assert recorded.heartbeats[0]["progress"] is None, "the first beat came before the flood"
    assert recorded.heartbeats[-1]["progress"] is not None, "the flood's reports reached heartbeats"
    # A beat a second, and one a report at most every 100 ms after the first beat.
    assert len(recorded.heartbeats) <= 2 * int(took + 1) + 10 * (took - 1) + 2, (
        f"{len(recorded.heartbeats)} in {took} s"
    )
