"""The asyncio client against the running service: the same round trips as the blocking one's, awaited."""

from __future__ import annotations

import asyncio
import os
import time
from contextlib import aclosing

import pytest

from durable_jobs import (
    AsyncClient,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    JobWaitTimeoutError,
    NotFoundError,
    RetryPolicy,
    ScheduledJobBody,
    SubmitJobBody,
)

from .support import unique_id

pytestmark = pytest.mark.anyio


async def test_submit_waiting_get_and_wait(async_client: AsyncClient) -> None:
    job_id = unique_id("async-wait")
    job = await async_client.submit("sleep", {"seconds": 0}, job_id=job_id, priority="low", wait=20)
    assert (job.job_id, job.status, job.priority) == (job_id, "succeeded", "low")
    again = await async_client.submit("sleep", {"seconds": 0}, job_id=job_id, priority="low")
    assert again.created_at == job.created_at
    with pytest.raises(ConflictError):
        await async_client.submit("sleep", {"seconds": 1}, job_id=job_id)
    started = await async_client.submit("sleep", {"seconds": 1})
    assert not started.finished
    assert (await async_client.get(started.job_id)).job_id == started.job_id
    assert (await async_client.wait(started.job_id, timeout=20, interval=0.2)).status == "succeeded"


async def test_cancel_retry_and_their_conflicts(async_client: AsyncClient) -> None:
    job = await async_client.submit("sleep", {"seconds": 60})
    with pytest.raises(JobWaitTimeoutError):
        await async_client.wait(job.job_id, timeout=0.3, interval=0.1)
    await async_client.cancel(job.job_id)
    assert (await async_client.wait(job.job_id, timeout=20, interval=0.2)).status == "cancelled"
    with pytest.raises(ConflictError):
        await async_client.cancel(job.job_id)
    retried = await async_client.retry(job.job_id)
    assert retried.run == 2
    await async_client.cancel(job.job_id)
    failed = await async_client.submit("sleep", {"seconds": 0, "failure": "non_retryable", "failAttempts": 1}, wait=20)
    assert failed.status == "failed"
    assert failed.error is not None
    done = await async_client.submit("sleep", {"seconds": 0}, retry=RetryPolicy(max_attempts=2), wait=20)
    with pytest.raises(ConflictError):
        await async_client.retry(done.job_id)


async def test_list_iterates_every_page(async_client: AsyncClient) -> None:
    submitted = await asyncio.gather(
        *(async_client.submit("sleep", {"seconds": 0}, job_id=unique_id("async-list"), wait=20) for _ in range(3))
    )
    ids = {job.job_id for job in submitted}
    deadline = time.monotonic() + 15
    while True:
        seen = [job.job_id async for job in async_client.list(status="succeeded", page_size=2)]
        if ids <= set(seen) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.3)
    assert ids <= set(seen)
    assert len(seen) == len(set(seen))
    page = await async_client.list_page(priority="normal", limit=1)
    assert len(page.jobs) == 1
    assert page.next_cursor is not None


async def test_events_follow_the_job_until_it_finishes(async_client: AsyncClient) -> None:
    job = await async_client.submit("sleep", {"seconds": 1})
    updates = [update async for update in async_client.events(job.job_id)]
    assert updates[0].job_id == job.job_id
    assert updates[-1].status == "succeeded"
    long = await async_client.submit("sleep", {"seconds": 60})
    async with aclosing(async_client.events(long.job_id)) as events:
        async for update in events:
            assert update.job_id == long.job_id
            break
    await async_client.cancel(long.job_id)


async def test_follow_gives_the_job_and_its_log_lines(async_client: AsyncClient) -> None:
    job = await async_client.submit("command", {"command": "tick", "args": ["6"]})
    messages: list[str] = []
    statuses: list[str] = []
    async for event in async_client.follow(job.job_id):
        if event.type == "log":
            messages.append(event.line.message)
        else:
            statuses.append(event.job.status)
    assert messages == [f"tick {n}" for n in range(1, 7)]
    assert statuses[-1] == "succeeded"
    long = await async_client.submit("sleep", {"seconds": 60})
    async with aclosing(async_client.follow(long.job_id)) as events:
        async for first in events:
            assert first.type == "job"
            assert first.job.job_id == long.job_id
            break
    await async_client.cancel(long.job_id)


async def test_refusals_are_their_exceptions(async_client: AsyncClient, base_url: str) -> None:
    with pytest.raises(NotFoundError):
        await async_client.get(unique_id("missing"))
    with pytest.raises(NotFoundError):
        async with aclosing(async_client.events(unique_id("missing"))) as events:
            await anext(events)
    with pytest.raises(InvalidRequestError):
        await async_client.get("not/an id")
    with pytest.raises(InvalidRequestError) as bad_input:
        await async_client.submit("sleep", {"seconds": -1})
    assert bad_input.value.status == 400
    if os.environ.get("DURABLE_JOBS_API_KEY"):
        async with AsyncClient(base_url) as stranger:
            with pytest.raises(AuthenticationError):
                await stranger.queues()


async def test_batches_schedules_job_types_queues_and_whoami(async_client: AsyncClient, tenant: str) -> None:
    results = await async_client.submit_batch(
        [SubmitJobBody(type="sleep", input={"seconds": 0}, job_id=unique_id("async-batch")), SubmitJobBody(type="x")]
    )
    assert [r.status for r in results] == [202, 400]
    schedule_id = unique_id("async-sched")
    job = ScheduledJobBody(type="sleep", input={"seconds": 0})
    created = await async_client.schedules.create(schedule_id, job, cron="*/5 * * * *", paused=True)
    assert created.paused
    assert (await async_client.schedules.unpause(schedule_id)).paused is False
    assert (await async_client.schedules.pause(schedule_id)).paused is True
    await async_client.schedules.trigger(schedule_id)
    assert schedule_id in {s.schedule_id for s in await async_client.schedules.list()}
    assert (await async_client.schedules.get(schedule_id)).cron == "*/5 * * * *"
    await async_client.schedules.delete(schedule_id)
    with pytest.raises(NotFoundError):
        await async_client.schedules.delete(schedule_id)
    assert "sleep" in {t.name for t in await async_client.job_types()}
    assert len(await async_client.queues()) == 3
    assert await async_client.whoami() == tenant


async def test_hooks_round_trip(async_client: AsyncClient) -> None:
    created = await async_client.hooks.create("sleep", priority="high", enabled=False, secret="s" * 32)
    assert (created.secret, created.priority, created.enabled, created.input_from) == ("s" * 32, "high", False, None)
    assert created.hook_id in {hook.hook_id for hook in await async_client.hooks.list()}
    assert (await async_client.hooks.get(created.hook_id)).enabled is False
    assert (await async_client.hooks.update(created.hook_id, enabled=True)).enabled is True
    await async_client.hooks.delete(created.hook_id)
    with pytest.raises(NotFoundError):
        await async_client.hooks.get(created.hook_id)


async def test_tags_counts_and_delete(async_client: AsyncClient) -> None:
    tag = f"run:{unique_id('async-tags')}"
    job = await async_client.submit("sleep", {"seconds": 0}, tags=[tag], wait=20)
    assert job.tags == [tag]
    # Visibility lags writes by about a second.
    deadline = time.monotonic() + 10
    for _ in range(100):
        if (await async_client.counts(tags=[tag])).total >= 1 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert (await async_client.counts(tags=[tag], status="succeeded")).counts.succeeded == 1
    page = await async_client.list_page(tags=[tag], total=True)
    assert ([listed.job_id for listed in page.jobs], page.total) == ([job.job_id], 1)
    await async_client.delete(job.job_id)
    with pytest.raises(NotFoundError):
        await async_client.get(job.job_id)
