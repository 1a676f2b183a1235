"""The blocking client against the running service: every endpoint round-trips, refusals arrive as their exceptions."""

from __future__ import annotations

import hashlib
import hmac
import os
import time

import httpx
import pytest

from durable_jobs import (
    AuthenticationError,
    Client,
    ConflictError,
    InvalidRequestError,
    Job,
    JobChangedEvent,
    JobEvent,
    JobLogEvent,
    JobWaitTimeoutError,
    NotFoundError,
    RetryPolicy,
    ScheduledJobBody,
    SubmitJobBody,
)

from .support import unique_id


def test_submit_waiting_answers_the_finished_job(client: Client) -> None:
    job_id = unique_id("wait")
    job = client.submit("sleep", {"seconds": 0, "message": "hi"}, job_id=job_id, priority="high", wait=20)
    assert (job.job_id, job.status, job.priority, job.run) == (job_id, "succeeded", "high", 1)
    assert job.result == {"sleptSeconds": 0, "message": "hi"}
    assert job.finished
    assert job.finished_at is not None
    assert job.created_at.tzinfo is not None
    assert job.links.self_link == f"/api/v1/jobs/{job_id}"


def test_submit_get_and_wait(client: Client) -> None:
    job = client.submit("sleep", {"seconds": 1})
    assert job.status in ("queued", "running")
    assert not job.finished
    assert client.get(job.job_id).job_id == job.job_id
    done = client.wait(job.job_id, timeout=20, interval=0.2)
    assert done.status == "succeeded"
    assert done.progress is not None
    assert done.progress.percent == 100


def test_the_same_job_id_is_idempotent_and_a_different_request_conflicts(client: Client) -> None:
    job_id = unique_id("idem")
    first = client.submit("sleep", {"seconds": 0}, job_id=job_id)
    again = client.submit("sleep", {"seconds": 0}, job_id=job_id)
    assert again.job_id == first.job_id
    assert again.created_at == first.created_at
    with pytest.raises(ConflictError) as refused:
        client.submit("sleep", {"seconds": 5}, job_id=job_id)
    assert (refused.value.status, refused.value.code) == (409, "conflict")


def test_cancel_and_a_second_cancel_conflicts(client: Client) -> None:
    job = client.submit("sleep", {"seconds": 60})
    client.cancel(job.job_id)
    assert client.wait(job.job_id, timeout=20, interval=0.2).status == "cancelled"
    with pytest.raises(ConflictError):
        client.cancel(job.job_id)


def test_retry_runs_a_failed_job_again_and_a_succeeded_one_conflicts(client: Client) -> None:
    job = client.submit("sleep", {"seconds": 0, "failAttempts": 1}, retry=RetryPolicy(max_attempts=1), wait=20)
    assert job.status == "failed"
    assert job.error is not None
    again = client.retry(job.job_id)
    assert again.run == 2
    assert client.wait(job.job_id, timeout=20, interval=0.2).run == 2
    done = client.submit("sleep", {"seconds": 0}, wait=20)
    with pytest.raises(ConflictError):
        client.retry(done.job_id)


def test_attempts_and_bulk_cancel_and_retry(client: Client) -> None:
    failed = client.submit("sleep", {"seconds": 0, "failAttempts": 1}, retry=RetryPolicy(max_attempts=1), wait=20)
    attempts = client.attempts(failed.job_id)
    assert [(a.attempt, a.outcome) for a in attempts.attempts] == [(1, "failed")]
    assert attempts.attempts[0].error is not None
    assert attempts.schedule_id is None
    running = client.submit("sleep", {"seconds": 60})
    cancelled = client.cancel_many([running.job_id, failed.job_id])
    assert [(r.job_id, r.status) for r in cancelled] == [(running.job_id, 202), (failed.job_id, 409)]
    assert cancelled[1].error is not None
    assert cancelled[1].error.code == "conflict"
    retried = client.retry_many([failed.job_id])
    assert retried[0].status == 202
    assert retried[0].job_status == "queued"
    with pytest.raises(InvalidRequestError):
        client.retry_many([])


def test_wait_runs_out_with_the_job_as_last_seen(client: Client) -> None:
    job = client.submit("sleep", {"seconds": 60})
    with pytest.raises(JobWaitTimeoutError) as timed_out:
        client.wait(job.job_id, timeout=0.3, interval=0.1)
    assert isinstance(timed_out.value, TimeoutError)
    assert timed_out.value.last_seen.job_id == job.job_id
    assert not timed_out.value.last_seen.finished
    client.cancel(job.job_id)


def test_list_iterates_every_page(client: Client) -> None:
    ids = {client.submit("sleep", {"seconds": 0}, job_id=unique_id("list"), wait=20).job_id for _ in range(3)}
    # Visibility (what lists read) catches up with a finished job shortly after it finishes.
    deadline = time.monotonic() + 15
    while True:
        seen = [job.job_id for job in client.list(status="succeeded", type="sleep", page_size=2)]
        if ids <= set(seen) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert ids <= set(seen)
    assert len(seen) == len(set(seen)), "a job came twice across pages"
    first = client.list_page(status="succeeded", limit=2)
    assert len(first.jobs) == 2
    assert first.next_cursor is not None
    second = client.list_page(status="succeeded", limit=2, cursor=first.next_cursor)
    assert {j.job_id for j in first.jobs}.isdisjoint(j.job_id for j in second.jobs)
    assert all(job.status == "succeeded" for job in first.jobs + second.jobs)


def test_events_follow_the_job_until_it_finishes(client: Client) -> None:
    job = client.submit("sleep", {"seconds": 2})
    updates: list[Job] = list(client.events(job.job_id))
    assert updates[0].job_id == job.job_id
    assert updates[-1].status == "succeeded"
    assert all(not update.finished for update in updates[:-1])
    assert any(update.progress is not None for update in updates)


def test_follow_gives_the_job_and_its_log_lines_in_the_streams_order(client: Client) -> None:
    job = client.submit("command", {"command": "tick", "args": ["6"]})
    events: list[JobEvent] = list(client.follow(job.job_id))
    lines = [event.line for event in events if isinstance(event, JobLogEvent)]
    assert [(line.attempt, line.level, line.message) for line in lines] == [
        (1, "info", f"tick {n}") for n in range(1, 7)
    ]
    assert [line.seq for line in lines] == [1, 2, 3, 4, 5, 6]
    last = events[-1]
    assert isinstance(last, JobChangedEvent), "the finished job comes last"
    assert last.job.status == "succeeded"
    assert any(isinstance(event, JobChangedEvent) and event.job.status == "running" for event in events)
    # ``events`` reads the same stream and gives only the jobs, as before log events existed.
    assert [update.status for update in client.events(job.job_id)] == ["succeeded"]
    with pytest.raises(NotFoundError):
        next(iter(client.follow(unique_id("missing"))))


def test_leaving_the_events_loop_early_closes_it(client: Client) -> None:
    job = client.submit("sleep", {"seconds": 60})
    for update in client.events(job.job_id):
        assert update.job_id == job.job_id
        break
    client.cancel(job.job_id)


def test_refusals_are_their_exceptions(client: Client, base_url: str) -> None:
    with pytest.raises(NotFoundError) as missing:
        client.get(unique_id("missing"))
    assert missing.value.status == 404
    with pytest.raises(NotFoundError):
        next(iter(client.events(unique_id("missing"))))
    with pytest.raises(InvalidRequestError) as bad_id:
        client.get("not/an id")
    assert bad_id.value.status == 400
    with pytest.raises(InvalidRequestError) as bad_input:
        client.submit("sleep", {"seconds": -1})
    assert bad_input.value.details, "the refusal keeps the API's details"
    with pytest.raises(InvalidRequestError):
        client.submit("no-such-type", {})


@pytest.mark.skipif(not os.environ.get("DURABLE_JOBS_API_KEY"), reason="the service runs without API keys")
def test_a_missing_or_wrong_key_is_an_authentication_error(base_url: str) -> None:
    for key in (None, "not-a-key-of-anyone-here"):
        with Client(base_url, api_key=key) as stranger, pytest.raises(AuthenticationError) as refused:
            stranger.get("any")
        assert (refused.value.status, refused.value.code) == (401, "unauthorized")


@pytest.mark.skipif(not os.environ.get("DURABLE_JOBS_OTHER_API_KEY"), reason="no second tenant's key")
def test_another_tenant_s_job_is_not_found(client: Client, base_url: str) -> None:
    job = client.submit("sleep", {"seconds": 0})
    with Client(base_url, api_key=os.environ["DURABLE_JOBS_OTHER_API_KEY"]) as other, pytest.raises(NotFoundError):
        other.get(job.job_id)


def test_a_batch_answers_each_item_in_its_place(client: Client) -> None:
    results = client.submit_batch(
        [SubmitJobBody(type="sleep", input={"seconds": 0}), SubmitJobBody(type="sleep", input={"seconds": -1})]
    )
    assert [r.index for r in results] == [0, 1]
    assert results[0].status == 202
    assert results[0].job is not None
    assert results[0].error is None
    assert results[1].status == 400
    assert results[1].error is not None
    assert results[1].error.code == "invalid_request"


def test_schedules_round_trip(client: Client) -> None:
    schedule_id = unique_id("sched")
    job = ScheduledJobBody(type="sleep", input={"seconds": 0}, priority="low")
    created = client.schedules.create(schedule_id, job, interval_seconds=3600, paused=True, overlap="allow_all")
    assert (created.schedule_id, created.interval_seconds, created.cron, created.paused) == (
        schedule_id,
        3600,
        None,
        True,
    )
    assert created.job["type"] == "sleep"
    with pytest.raises(ConflictError):
        client.schedules.create(schedule_id, job, interval_seconds=3600)
    assert client.schedules.get(schedule_id).schedule_id == schedule_id
    assert schedule_id in {s.schedule_id for s in client.schedules.list()}
    assert client.schedules.unpause(schedule_id).paused is False
    assert client.schedules.pause(schedule_id).paused is True
    client.schedules.trigger(schedule_id)
    deadline = time.monotonic() + 15
    while not client.schedules.get(schedule_id).recent_jobs and time.monotonic() < deadline:
        time.sleep(0.3)
    run = client.schedules.get(schedule_id).recent_jobs[0]
    assert run.job_id.startswith(f"{schedule_id}-")
    assert client.wait(run.job_id, timeout=20, interval=0.2).status == "succeeded"
    client.schedules.delete(schedule_id)
    with pytest.raises(NotFoundError):
        client.schedules.get(schedule_id)
    cron = client.schedules.create(unique_id("cron"), job, cron="0 3 * * *", timezone="Asia/Tokyo", paused=True)
    assert (cron.cron, cron.timezone) == ("0 3 * * *", "Asia/Tokyo")
    # 03:00 in Tokyo (UTC+9, no summer time) is 18:00 UTC.
    assert cron.next_run_times
    assert all((t.hour, t.minute) == (18, 0) for t in cron.next_run_times)
    client.schedules.delete(cron.schedule_id)


def test_whoami_names_the_key_s_tenant(client: Client, tenant: str) -> None:
    assert client.whoami() == tenant


def test_job_types_and_queues(client: Client) -> None:
    types = {t.name: t for t in client.job_types()}
    assert {"sleep", "command"} <= set(types)
    assert "seconds" in types["sleep"].input_schema["properties"]
    assert types["sleep"].defaults.retry.max_attempts >= 1
    queues = client.queues()
    assert sorted(q.priority for q in queues) == ["high", "low", "normal"]
    assert all(q.task_queue and q.queued_jobs >= 0 for q in queues)


def test_hooks_round_trip_and_a_signed_delivery_starts_a_job(client: Client, base_url: str) -> None:
    created = client.hooks.create("sleep", input_from={"seconds": "/delay"}, description="py")
    assert created.url == f"/api/v1/hooks/{created.hook_id}"
    assert (created.enabled, created.priority, created.input_from) == (True, "normal", {"seconds": "/delay"})
    body = b'{"delay": 0, "other": "left out"}'
    signature = hmac.new(created.secret.encode(), body, hashlib.sha256).hexdigest()
    delivery = httpx.post(
        f"{base_url}{created.url}",
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"},
    )
    assert delivery.status_code == 202, delivery.text
    job = client.wait(delivery.json()["jobId"], timeout=30)
    assert (job.status, job.input) == ("succeeded", {"seconds": 0})
    assert created.hook_id in {hook.hook_id for hook in client.hooks.list()}
    read = client.hooks.get(created.hook_id)
    assert read.description == "py"
    assert "secret" not in read.model_dump()
    assert client.hooks.update(created.hook_id, enabled=False).enabled is False
    client.hooks.delete(created.hook_id)
    with pytest.raises(NotFoundError):
        client.hooks.get(created.hook_id)


def test_tags_counts_and_delete(client: Client) -> None:
    tag = f"run:{unique_id('tags')}"
    job = client.submit("sleep", {"seconds": 0}, tags=[tag, "team:py"], wait=20)
    assert job.tags == [tag, "team:py"]
    with pytest.raises(InvalidRequestError):
        client.submit("sleep", {"seconds": 0}, tags=["no colon"])
    deadline = time.monotonic() + 10
    while client.counts(tags=[tag]).total < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    counts = client.counts(tags=[tag, "team:py"])
    assert (counts.total, counts.counts.succeeded, counts.counts.queued) == (1, 1, 0)
    page = client.list_page(tags=[tag], total=True)
    assert ([listed.job_id for listed in page.jobs], page.total) == ([job.job_id], 1)
    assert [listed.job_id for listed in client.list(tags=[tag, "team:other"])] == []
    client.delete(job.job_id)
    with pytest.raises(NotFoundError):
        client.get(job.job_id)
    with pytest.raises(NotFoundError):
        client.delete(job.job_id)
    queued = client.submit("sleep", {"seconds": 0}, delay_seconds=3600)
    with pytest.raises(ConflictError):
        client.delete(queued.job_id)
    client.cancel(queued.job_id)
