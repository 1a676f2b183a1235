"""serve() and its registry lease as a process runs them, against the Temporal server of the service under test
(``DURABLE_JOBS_TEMPORAL_ADDRESS``; skipped without it): what they do once the stop begins."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import os
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHandle
from temporalio.common import RetryPolicy
from temporalio.converter import DataConverter, PayloadCodec
from temporalio.service import RPCError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from durable_jobs import AttemptsAbandonedError, JobContext, job_type, serve
from durable_jobs._registry import RegistryLease

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="session")
def temporal_address() -> str:
    address = os.environ.get("DURABLE_JOBS_TEMPORAL_ADDRESS")
    if not address:
        pytest.skip("DURABLE_JOBS_TEMPORAL_ADDRESS is not set: no Temporal server to test against")
    return address


async def lease_of_nobodys_registry(temporal_address: str, lease_seconds: int, **connect: Any) -> RegistryLease:
    """A lease on a prefix of its own, whose registry no worker runs (as while the service's worker is down); its
    client is connected with ``connect``'s options."""
    client = await Client.connect(temporal_address, **connect)
    return RegistryLease(
        client,
        f"py-lease-{uuid.uuid4().hex[:8]}",
        {"workerId": f"py-lease-{uuid.uuid4().hex[:8]}", "leaseSeconds": lease_seconds, "jobTypes": [{"name": "t"}]},
        logging.getLogger("durable_jobs.test"),
    )


class Nothing(BaseModel):
    pass


#: When each attempt of py-serve.late began (time.monotonic()).
_began: list[float] = []


@job_type(name="py-serve.late")
async def late(input: Nothing, ctx: JobContext) -> None:
    _began.append(time.monotonic())


#: Released by each handler of py-serve.stubborn and py-serve.sync-stubborn as it begins; releases them when set.
_holding = threading.Semaphore(0)
_release = threading.Event()


@job_type(name="py-serve.stubborn")
async def stubborn(input: Nothing, ctx: JobContext) -> None:
    """Swallows every cancellation until the test releases it."""
    _holding.release()
    while not _release.is_set():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.05)


@job_type(name="py-serve.sync-stubborn")
def sync_stubborn(input: Nothing, ctx: JobContext) -> None:
    """Never looks at ctx.cancelled; holds its thread until the test releases it."""
    _holding.release()
    _release.wait(30)


@workflow.defn(name="py-serve-attempt")
class OneAttempt:
    """Schedules one attempt of a type on its queue, as the service's job workflow does."""

    @workflow.run
    async def run(self, job_type: str, task_queue: str) -> Any:
        return await workflow.execute_activity(
            job_type,
            args=[{}, {"jobId": workflow.info().workflow_id, "attempt": 1}],
            task_queue=task_queue,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )


async def attempts_starter(temporal_address: str) -> tuple[str, Client, Worker]:
    """A task queue prefix of its own, a client, and a worker of OneAttempt on ``<prefix>-starter`` (not running)."""
    prefix = f"py-serve-{uuid.uuid4().hex[:8]}"
    client = await Client.connect(temporal_address)
    starter = Worker(
        client,
        task_queue=f"{prefix}-starter",
        workflows=[OneAttempt],
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    return prefix, client, starter


async def start_attempt(client: Client, prefix: str, job_type: str, job_id: str) -> WorkflowHandle[Any, Any]:
    """Starts a OneAttempt of ``job_type`` on its normal queue under ``prefix``, its job id ``job_id``."""
    return await client.start_workflow(
        OneAttempt.run,
        args=[job_type, f"{prefix}:{job_type}:normal"],
        id=job_id,
        task_queue=f"{prefix}-starter",
    )


async def test_once_stopped_it_takes_no_attempt_while_its_leave_waits(temporal_address: str) -> None:
    # A prefix whose registry nobody runs (the service's worker is down, as in a deploy that stops every process):
    # the declaration waits, and at the stop so does the leave, for its 3 s. The polls stop at the stop all the same,
    # as the protocol has it, rather than take for 3 s more attempts that get only the grace time.
    prefix, client, starter = await attempts_starter(temporal_address)
    stop = asyncio.Event()
    async with starter:
        serving = asyncio.create_task(
            serve(
                [late],
                temporal_address=temporal_address,
                task_queue_prefix=prefix,
                queues={"normal": 1},
                shutdown_grace_seconds=5,
                stop=stop,
            )
        )
        await asyncio.sleep(2)
        stopped_at = time.monotonic()
        stop.set()
        await asyncio.sleep(1)
        attempt = await start_attempt(client, prefix, "py-serve.late", f"{prefix}-attempt")
        await asyncio.wait_for(serving, 20)
        with contextlib.suppress(RPCError):  # the attempt ran, and its workflow ended
            await attempt.terminate("the test is over")
    assert [began - stopped_at for began in _began if began > stopped_at] == [], "attempts began after the stop"


async def test_a_declaration_cancelled_at_the_stop_leaves_no_error_for_asyncio_to_log(
    temporal_address: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The declaration waits for a registry nobody runs yet (the service's worker is not up) when the stop comes. The
    # SDK sets the cancelled Update-With-Start's error on its start operation too, and asyncio logged it once
    # collected, an ERROR with a traceback ("Future exception was never retrieved"); so did every declaration the
    # server refused (a wrong namespace: one a tick).
    stop = asyncio.Event()
    keeping = asyncio.create_task((await lease_of_nobodys_registry(temporal_address, 3)).keep(stop))
    await asyncio.sleep(1)
    stop.set()
    await asyncio.wait_for(keeping, 5)
    del keeping
    gc.collect()
    await asyncio.sleep(0)
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == []


class RefusingCodec(PayloadCodec):
    """A codec that fails to encode (a key it cannot use): the call fails before its request goes out."""

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        raise ValueError("this codec encodes nothing")

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)


@pytest.mark.parametrize(
    ("failing", "connect"),
    [
        # The server refuses it: the SDK sets the error on the start operation too.
        (RPCError, {"namespace": f"nowhere-{uuid.uuid4().hex[:8]}"}),
        # It fails before its request goes out: the SDK sets nothing there, which the lease must not wait for.
        (ValueError, {"data_converter": dataclasses.replace(DataConverter.default, payload_codec=RefusingCodec())}),
    ],
    ids=["refused", "failed-before-its-request"],
)
async def test_a_declaration_that_fails_leaves_no_error_for_asyncio_to_log(
    temporal_address: str, caplog: pytest.LogCaptureFixture, failing: type[Exception], connect: dict[str, Any]
) -> None:
    lease = await lease_of_nobodys_registry(temporal_address, 3, **connect)
    began = time.monotonic()
    with pytest.raises(failing):
        await asyncio.wait_for(lease.declare(), 5)
    assert time.monotonic() - began < 2.5, "the declaration waited for a start that never happened"
    del lease
    gc.collect()
    await asyncio.sleep(0)
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []


async def test_a_registry_whose_worker_is_down_is_logged_while_the_lease_waits_for_it(
    temporal_address: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Nobody runs the registry (the service's worker is down): an update waits for it without an error, as long as
    # it is down. The lease says so every lease (2 s here) rather than wait in silence, as the protocol has it.
    caplog.set_level(logging.WARNING)
    stop = asyncio.Event()
    keeping = asyncio.create_task((await lease_of_nobodys_registry(temporal_address, 2)).keep(stop))
    await asyncio.sleep(4.5)
    stop.set()
    await asyncio.wait_for(keeping, 5)
    said = [record.getMessage() for record in caplog.records if record.name == "durable_jobs.test"]
    assert [message.split(" (")[0] for message in said] == [
        "the job type registry has not answered for 2 s",
        "the job type registry has not answered for 4 s",
    ]


async def test_cancelled_it_leaves_no_task_of_its_own_running_and_logs_no_error(
    temporal_address: str, caplog: pytest.LogCaptureFixture
) -> None:
    # asyncio.run(serve(...)) on Ctrl-C, or a task group whose other task failed, cancels serve(), here while its
    # declaration waits for a registry nobody runs. Its tasks end with it: the declaration was left running for good
    # (asyncio.run's shutdown then logged its error), and the wait for the stop too ("Task was destroyed but it is
    # pending!" once collected).
    before = asyncio.all_tasks()
    serving = asyncio.create_task(
        serve(
            [late],
            temporal_address=temporal_address,
            task_queue_prefix=f"py-serve-{uuid.uuid4().hex[:8]}",
            queues={"normal": 1},
        )
    )
    await asyncio.sleep(2)
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    await asyncio.sleep(0.5)
    gc.collect()
    left = [task.get_coro() for task in asyncio.all_tasks() - before]
    assert left == []
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []


async def test_past_the_force_time_it_abandons_the_attempts_that_ignore_their_cancellation(
    temporal_address: str, caplog: pytest.LogCaptureFixture
) -> None:
    # An async handler that swallows CancelledError and a thread handler that never looks at ctx.cancelled: the SDK's
    # workers wait for them however long they take, and so did serve(), for good.
    prefix, client, starter = await attempts_starter(temporal_address)
    stop = asyncio.Event()
    names = ["py-serve.stubborn", "py-serve.sync-stubborn"]
    async with starter:
        serving = asyncio.create_task(
            serve(
                [stubborn, sync_stubborn],
                temporal_address=temporal_address,
                task_queue_prefix=prefix,
                queues={"normal": 2},
                shutdown_grace_seconds=0.5,
                shutdown_force_seconds=1,
                stop=stop,
            )
        )
        attempts = [await start_attempt(client, prefix, name, f"{prefix}-{name}") for name in names]
        try:
            for _ in names:
                assert await asyncio.to_thread(_holding.acquire, timeout=10), "the attempts did not begin"
            stopped_at = time.monotonic()
            stop.set()
            with pytest.raises(AttemptsAbandonedError) as raised:
                await asyncio.wait_for(serving, 10)
            took = time.monotonic() - stopped_at
        finally:
            _release.set()
            for attempt in attempts:
                with contextlib.suppress(RPCError):
                    await attempt.terminate("the test is over")
    assert 1.5 <= took < 2.5, f"raised {took:.1f} s after the stop"
    assert sorted((each.job_id, each.job_type, each.attempt) for each in raised.value.attempts) == [
        (f"{prefix}-{name}", name, 1) for name in names
    ]
    errors = sorted(record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR)
    assert [message.split(": ")[0] for message in errors] == [
        f"abandoned attempt 1 of job {prefix}-{name} ({name})" for name in names
    ]
    assert all(
        message.endswith("its job retries it after its heartbeat timeout, as its retry policy allows")
        for message in errors
    )
