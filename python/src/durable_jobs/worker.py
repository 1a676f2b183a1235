"""Serving job types: :func:`run_worker` (blocking, stops on SIGTERM/SIGINT) and :func:`serve` (a coroutine)."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import os
import signal
import socket
import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, NoReturn

from temporalio.client import Client
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.worker import FixedSizeSlotSupplier, PollerBehaviorSimpleMaximum, Worker, WorkerTuner

from . import _protocol as protocol
from ._attempt import JobAttempt, attempt_activity
from ._metrics import metrics_runtime
from ._registry import RegistryLease
from ._slots import PrioritySlotPool
from ._tracing import start_tracing
from ._version import __version__
from .job_type import DeclaredJobType
from .payload_codec import PayloadEncryptionCodec, parse_payload_key

log = logging.getLogger("durable_jobs.worker")

#: Cancellation reaches an attempt only on a heartbeat sent to the server; the SDK's default throttle (0.8 x the
#: heartbeat timeout) would delay it by seconds.
_HEARTBEAT_THROTTLE = timedelta(milliseconds=500)

#: The exit status of :func:`run_worker` (and ``durable-jobs worker``) when its stop abandoned attempts.
ATTEMPTS_ABANDONED_EXIT_STATUS = 3


class WorkerOptionsInvalidError(ValueError):
    """Raised by :func:`run_worker` and :func:`serve` when their options cannot serve anything."""


class AttemptsAbandonedError(RuntimeError):
    """Raised by :func:`serve` when attempts were still running past the stop's grace and force times: it stopped
    without them (their jobs retry them after their heartbeat timeout), but their handlers still run in this process
    and nothing can stop them. End the process with ``os._exit``, as :func:`run_worker` does: ``asyncio.run`` waits
    for their tasks as it ends, and the interpreter's exit for their threads."""

    def __init__(self, attempts: Sequence[JobAttempt]) -> None:
        named = ", ".join(f"job {each.job_id} ({each.job_type}) attempt {each.attempt}" for each in attempts)
        super().__init__(f"stopped without {len(attempts)} attempt(s) that ignored their cancellation: {named}")
        self.attempts = tuple(attempts)


class TemporalUnreachableError(RuntimeError):
    """Raised by :func:`run_worker` and :func:`serve` when Temporal cannot be reached at start."""

    def __init__(self, address: str, cause: BaseException) -> None:
        super().__init__(f"could not connect to Temporal at {address}: {cause}")
        self.address = address


@dataclasses.dataclass(frozen=True)
class _Checked:
    job_types: tuple[DeclaredJobType[Any, Any], ...]
    prefix: str
    queues: dict[protocol.Priority, int]


def _checked(
    job_types: Iterable[DeclaredJobType[Any, Any]], task_queue_prefix: str, queues: Mapping[str, int]
) -> _Checked:
    if not protocol.TASK_QUEUE_PREFIX.match(task_queue_prefix):
        raise WorkerOptionsInvalidError(
            f"task_queue_prefix must be 1-100 characters of [A-Za-z0-9._-], as JOBS_TASK_QUEUE_PREFIX, not"
            f" {task_queue_prefix!r}"
        )
    checked_queues: dict[protocol.Priority, int] = {}
    for priority, slots in queues.items():
        if priority not in protocol.PRIORITIES:
            raise WorkerOptionsInvalidError(f"queues: {priority!r} is not a priority (high, normal, low)")
        if isinstance(slots, bool) or not isinstance(slots, int) or not 0 <= slots <= 10_000:
            raise WorkerOptionsInvalidError(f"queues: {priority} must have 0 to 10000 slots, not {slots!r}")
        if slots > 0:
            checked_queues[priority] = slots
    if not checked_queues:
        raise WorkerOptionsInvalidError('queues: give at least one priority a slot, e.g. {"normal": 4}')
    types = tuple(job_types)
    for each in types:
        if not isinstance(each, DeclaredJobType):
            raise WorkerOptionsInvalidError(f"job_types: {each!r} is not a job type (decorate it with @job_type)")
    if not types:
        raise WorkerOptionsInvalidError("job_types: give at least one job type")
    if len(types) > 100:
        raise WorkerOptionsInvalidError("job_types: a worker serves at most 100 job types")
    names = [each.name for each in types]
    twice = next((name for index, name in enumerate(names) if name in names[:index]), None)
    if twice is not None:
        raise WorkerOptionsInvalidError(f'job_types: "{twice}" is given twice')
    # Temporal refuses an update past 2 MiB in a way the registry cannot answer: its refusal echoes the request.
    declared = len(json.dumps([each.declaration for each in types], ensure_ascii=False, separators=(",", ":")).encode())
    if declared > protocol.REGISTRY_MAX_BYTES:
        raise WorkerOptionsInvalidError(
            f"job_types: their declarations take {declared // 1024} KiB as JSON, and the registry holds at most"
            f" {protocol.REGISTRY_MAX_BYTES // 1024} KiB of every declaration: declare fewer types or smaller schemas"
        )
    return _Checked(types, task_queue_prefix, checked_queues)


def _data_converter(encryption_key: str | None, decryption_keys: Sequence[str]) -> DataConverter:
    if not encryption_key:
        return DataConverter.default
    codec = PayloadEncryptionCodec(
        parse_payload_key(encryption_key), [parse_payload_key(key) for key in decryption_keys]
    )
    # Failures' messages and stack traces are encrypted too, as the service's own workers do.
    return dataclasses.replace(
        DataConverter.default,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def serve(
    job_types: Iterable[DeclaredJobType[Any, Any]],
    *,
    temporal_address: str = "localhost:7233",
    namespace: str = "default",
    task_queue_prefix: str = "jobs",
    queues: Mapping[str, int] | None = None,
    payload_encryption_key: str | None = None,
    payload_decryption_keys: Sequence[str] = (),
    lease_seconds: int = 10,
    shutdown_grace_seconds: float = 10,
    shutdown_force_seconds: float = 5,
    stop: asyncio.Event | None = None,
) -> None:
    """Serves ``job_types`` until ``stop`` is set; see :func:`run_worker`, which runs this and sets it on SIGTERM or
    SIGINT. Returns once every running attempt has ended or been cancelled; raises :class:`AttemptsAbandonedError`
    when some ignored their cancellation for ``shutdown_force_seconds``."""
    checked = _checked(job_types, task_queue_prefix, {"normal": 4} if queues is None else queues)
    if not 2 <= lease_seconds <= 300:
        raise WorkerOptionsInvalidError(f"lease_seconds must be from 2 to 300, not {lease_seconds}")
    for name, seconds in (
        ("shutdown_grace_seconds", shutdown_grace_seconds),
        ("shutdown_force_seconds", shutdown_force_seconds),
    ):
        if not 0 <= seconds <= 86_400:
            raise WorkerOptionsInvalidError(f"{name} must be a number of seconds from 0 to 86400, not {seconds}")
    stop = stop or asyncio.Event()
    data_converter = _data_converter(payload_encryption_key, payload_decryption_keys)
    host = socket.gethostname()
    worker_id = f"{host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    try:
        runtime = metrics_runtime()
    except ValueError as err:
        raise WorkerOptionsInvalidError(str(err)) from err
    interceptors, stop_tracing = start_tracing("durable-jobs-python-worker")
    try:
        client = await Client.connect(
            temporal_address,
            namespace=namespace,
            data_converter=data_converter,
            interceptors=interceptors,
            runtime=runtime,
        )
    except RuntimeError as err:  # the SDK's core reports a failed connection as a RuntimeError
        stop_tracing()
        raise TemporalUnreachableError(temporal_address, err) from err

    async def notify_started(workflow_id: str, run_id: str, attempt: int, started_at: str) -> None:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id or None)
        await handle.signal(protocol.ATTEMPT_STARTED_SIGNAL, {"attempt": attempt, "startedAt": started_at})

    async def report_cancelled(task_token: bytes, details: dict[str, Any]) -> None:
        await client.get_async_activity_handle(task_token=task_token).report_cancellation(details)

    # Plain def handlers run here; the event loop heartbeats for them. Sized for every slot, and the one extra
    # attempt per type a pool may let in at its busiest.
    threads = sum(checked.queues.values()) + len(checked.job_types) * len(checked.queues)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="durable-jobs-handler")
    attempts: dict[bytes, JobAttempt] = {}
    workers: list[Worker] = []
    for priority, slots in checked.queues.items():
        tuner = WorkerTuner.create_composite(
            activity_supplier=PrioritySlotPool(slots),
            # No workflows or local activities run here; the slots are what the SDK requires at the least.
            workflow_supplier=FixedSizeSlotSupplier(2),
            local_activity_supplier=FixedSizeSlotSupplier(1),
            nexus_supplier=FixedSizeSlotSupplier(1),
        )
        for each in checked.job_types:
            workers.append(
                Worker(
                    client,
                    task_queue=protocol.job_type_task_queue(checked.prefix, each.name, priority),
                    identity=f"{worker_id} {each.name}/{priority}",
                    activities=[attempt_activity(each, notify_started, executor, report_cancelled, attempts)],
                    tuner=tuner,
                    # One poller per type and priority: an idle type then holds at most one reservation of the pool.
                    activity_task_poller_behavior=PollerBehaviorSimpleMaximum(1),
                    max_heartbeat_throttle_interval=_HEARTBEAT_THROTTLE,
                    default_heartbeat_throttle_interval=_HEARTBEAT_THROTTLE,
                    graceful_shutdown_timeout=timedelta(seconds=shutdown_grace_seconds),
                )
            )

    lease = RegistryLease(
        client,
        checked.prefix,
        {
            "protocolVersion": protocol.PROTOCOL_VERSION,
            "workerId": worker_id,
            "identity": f"durable-jobs {__version__} (Python) pid {os.getpid()} on {host}",
            "jobTypes": [each.declaration for each in checked.job_types],
            "queues": checked.queues,
            "leaseSeconds": lease_seconds,
        },
        log,
    )
    running = [asyncio.create_task(worker.run()) for worker in workers]
    keeping = asyncio.create_task(lease.keep(stop))
    log.info(
        "serving %s on %s (%s)",
        ", ".join(each.name for each in checked.job_types),
        ", ".join(f"{priority}: {slots}" for priority, slots in checked.queues.items()),
        checked.prefix,
    )
    stopped = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait({stopped, *running}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        failed = next((task for task in running if task in done and task.exception() is not None), None)
        if failed is None:
            log.info("stopping: running attempts get %g s to finish", shutdown_grace_seconds)
        stop.set()
        await keeping
        # Leaves and stops polling as soon as the stop begins, together: the running attempts drain without new ones
        # counting on this process, and a leave that waits (up to its timeout, while the registry's worker is down)
        # does not keep the polls open, taking attempts that would get only the grace time.
        stopping = asyncio.gather(lease.leave(), *(worker.shutdown() for worker in workers), return_exceptions=True)
        # A worker waits for its cancelled attempts however long they take: past the force time it is left waiting.
        await asyncio.wait({stopping}, timeout=shutdown_grace_seconds + shutdown_force_seconds)
        if not stopping.done() and attempts:
            abandoned = tuple(attempts.values())
            stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopping
            for one in abandoned:
                log.error(
                    "abandoned attempt %d of job %s (%s): still running %g s after it was cancelled at the end of the"
                    " %g s grace time; its job retries it after its heartbeat timeout, as its retry policy allows",
                    one.attempt,
                    one.job_id,
                    one.job_type,
                    shutdown_force_seconds,
                    shutdown_grace_seconds,
                )
            raise AttemptsAbandonedError(abandoned)
        await stopping
        results = await asyncio.gather(*running, return_exceptions=True)
        if failed is not None:
            raise next(result for result in results if isinstance(result, BaseException))
    finally:
        stopped.cancel()  # when serve() itself is cancelled (Ctrl-C under asyncio.run, a task group)
        keeping.cancel()
        for task in running:
            task.cancel()
        executor.shutdown(wait=False, cancel_futures=True)
        stop_tracing()


def run_worker(
    job_types: Iterable[DeclaredJobType[Any, Any]],
    *,
    temporal_address: str = "localhost:7233",
    namespace: str = "default",
    task_queue_prefix: str = "jobs",
    queues: Mapping[str, int] | None = None,
    payload_encryption_key: str | None = None,
    payload_decryption_keys: Sequence[str] = (),
    lease_seconds: int = 10,
    shutdown_grace_seconds: float = 10,
    shutdown_force_seconds: float = 5,
) -> None:
    """Serves ``job_types`` until SIGTERM or SIGINT: one Temporal worker per job type and priority, each polling
    ``<prefix>:<type>:<priority>``, the types of a priority sharing its slots (``queues``, e.g. ``{"high": 2,
    "normal": 8}``; default ``{"normal": 4}``). The process declares itself to the service's job type registry and
    keeps its lease while it runs. On a stop signal it leaves the registry, stops polling, gives running attempts
    ``shutdown_grace_seconds`` to finish, then cancels them (their jobs retry them elsewhere) and returns once they
    have ended; a second signal exits the process at once. Attempts that have not ended ``shutdown_force_seconds``
    after their cancellation are abandoned: each is logged, and the process exits with status 3
    (``ATTEMPTS_ABANDONED_EXIT_STATUS``), since their handlers would keep it running (see
    :class:`AttemptsAbandonedError`).

    ``temporal_address``, ``namespace``, ``task_queue_prefix`` and ``payload_encryption_key`` are the service's
    ``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, ``JOBS_TASK_QUEUE_PREFIX`` and ``PAYLOAD_ENCRYPTION_KEY``.
    """
    # Checked before the event loop starts, so a mistake fails at once with its own message.
    _checked(job_types := tuple(job_types), task_queue_prefix, {"normal": 4} if queues is None else queues)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            if not stop.is_set():
                stop.set()
                return
            # A second signal while draining (a thread handler that ignores ctx.cancelled cannot be stopped from
            # outside): stop at once, as a second Ctrl-C stops celery. Its jobs retry after their heartbeat timeout.
            log.warning("second stop signal: exiting without waiting for the running attempts")
            logging.shutdown()
            os._exit(1)

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, on_signal)
        try:
            await serve(
                job_types,
                temporal_address=temporal_address,
                namespace=namespace,
                task_queue_prefix=task_queue_prefix,
                queues=queues,
                payload_encryption_key=payload_encryption_key,
                payload_decryption_keys=payload_decryption_keys,
                lease_seconds=lease_seconds,
                shutdown_grace_seconds=shutdown_grace_seconds,
                shutdown_force_seconds=shutdown_force_seconds,
                stop=stop,
            )
        except AttemptsAbandonedError:
            exit_process(ATTEMPTS_ABANDONED_EXIT_STATUS)
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(signum)

    asyncio.run(main())


def exit_process(code: int) -> NoReturn:
    """Ends the process: the atexit handlers run, then the process exits without the interpreter's finalization, which
    the Temporal core's threads can abort (``PyGILState_Release``, exit status 134; seen after a failed connection with
    temporalio 1.35) and which would wait for thread handlers that ignored ``ctx.cancelled``."""
    atexit._run_exitfuncs()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
