"""The example end to end: the app (``SIMULATIONS_URL``) in front of a durable-jobs service, with the example's
worker serving ``simulate`` and ``report`` (test/python-fastapi-example.test.ts starts all three)."""

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

Json = dict[str, Any]


@pytest.fixture(scope="module")
def app() -> Iterator[httpx.Client]:
    url = os.environ.get("SIMULATIONS_URL")
    if not url:
        pytest.skip("SIMULATIONS_URL is not set: no app to test")
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client


def poll(app: httpx.Client, path: str, until: Callable[[Json], bool], timeout: float = 30) -> list[Json]:
    """GETs ``path`` every 0.1 s until ``until`` holds, and answers every state seen on the way."""
    seen: list[Json] = []
    deadline = time.monotonic() + timeout
    while True:
        answer = app.get(path)
        assert answer.status_code == 200, answer.text
        seen.append(answer.json())
        if until(seen[-1]):
            return seen
        assert time.monotonic() < deadline, f"{path} not as expected within {timeout} s; last seen {seen[-1]}"
        time.sleep(0.1)


def finished(job: Json) -> bool:
    return job["status"] in {"succeeded", "failed", "timed_out", "cancelled"}


def test_a_simulation_runs_with_progress_and_its_report_reads_its_result(app: httpx.Client) -> None:
    submitted = app.post("/simulations", json={"steps": 10, "seed": 7, "step_seconds": 0.2})
    assert submitted.status_code == 202, submitted.text
    simulation_id = submitted.json()["id"]
    assert submitted.headers["location"] == f"/simulations/{simulation_id}"

    seen = poll(app, f"/simulations/{simulation_id}", finished)
    done = seen[-1]
    assert done["status"] == "succeeded", done
    assert done["error"] is None
    assert done["result"]["steps"] == 10
    assert done["result"]["seed"] == 7
    assert done["result"]["low"] <= done["result"]["final"] <= done["result"]["high"]
    assert done["progress"] == {"percent": 100, "message": "10 steps done"}
    running = [job["progress"]["percent"] for job in seen if job["status"] == "running" and job["progress"]]
    assert any(0 < percent < 100 for percent in running), f"no progress seen while running: {seen}"

    submitted = app.post("/reports", json={"simulation_id": simulation_id, "format": "csv"})
    assert submitted.status_code == 202, submitted.text
    report = poll(app, f"/reports/{submitted.json()['id']}", finished)[-1]
    assert report["status"] == "succeeded", report
    header, row = report["result"]["content"].splitlines()
    assert header == "simulation,steps,seed,final,low,high"
    assert row.startswith(f"{simulation_id},10,7,")


def test_a_cancelled_simulation_stops(app: httpx.Client) -> None:
    submitted = app.post("/simulations", json={"steps": 1000, "seed": 3, "step_seconds": 0.1})
    assert submitted.status_code == 202, submitted.text
    path = f"/simulations/{submitted.json()['id']}"
    poll(app, path, lambda job: job["status"] == "running")
    cancelled = app.post(f"{path}/cancel")
    assert cancelled.status_code == 202, cancelled.text
    started = time.monotonic()
    done = poll(app, path, finished, timeout=10)[-1]
    assert done["status"] == "cancelled", done
    assert time.monotonic() - started < 5, "the walk stops at its next step"
    assert app.post(f"{path}/cancel").status_code == 409


def test_an_idempotency_key_submits_once(app: httpx.Client) -> None:
    key = f"simulation-{uuid.uuid4()}"
    body = {"steps": 1, "seed": 1, "step_seconds": 0}
    first = app.post("/simulations", json=body, headers={"Idempotency-Key": key})
    again = app.post("/simulations", json=body, headers={"Idempotency-Key": key})
    assert (first.status_code, again.status_code) == (202, 202), (first.text, again.text)
    assert first.json()["id"] == again.json()["id"] == key
    other = app.post("/simulations", json={**body, "seed": 2}, headers={"Idempotency-Key": key})
    assert other.status_code == 409, other.text


def test_a_report_of_no_simulation_fails_at_once_as_unrecoverable(app: httpx.Client) -> None:
    submitted = app.post("/reports", json={"simulation_id": f"no-such-simulation-{uuid.uuid4()}"})
    assert submitted.status_code == 202, submitted.text
    report = poll(app, f"/reports/{submitted.json()['id']}", finished)[-1]
    assert report["status"] == "failed", report
    assert report["error"]["type"] == "UnrecoverableError", report
    assert "no simulation" in report["error"]["message"]
    assert report["attempt"] == 1, "an UnrecoverableError is not retried"
    assert report["max_attempts"] == 5


def test_a_bad_input_is_refused_by_the_app(app: httpx.Client) -> None:
    assert app.post("/simulations", json={"steps": 0}).status_code == 422
    assert app.get("/simulations/no-such-simulation").status_code == 404
