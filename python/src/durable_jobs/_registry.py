"""Keeps a worker process declared to the service's job type registry (``docs/worker-protocol.md``, "The registry")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from . import _protocol as protocol


def _is_not_declared(err: BaseException) -> bool:
    """Whether a renewal's error says that the registry no longer knows this worker: its validator refused it
    (WorkerNotDeclared), or no registry runs under its id any more (NOT_FOUND: its run was terminated, or the server
    lost it), which only a declaration's Update-With-Start starts again."""
    if isinstance(err, RPCError):
        return err.status == RPCStatusCode.NOT_FOUND
    return (
        isinstance(err, WorkflowUpdateFailedError)
        and isinstance(err.cause, ApplicationError)
        and err.cause.type == protocol.WORKER_NOT_DECLARED
    )


class RegistryLease:
    """A worker's place in the registry: declared at start, renewed every third of its lease, left at shutdown."""

    def __init__(self, client: Client, prefix: str, message: dict[str, Any], log: logging.Logger) -> None:
        self._client = client
        self._prefix = prefix
        self._message = message
        self._worker_ref = {"workerId": message["workerId"]}
        self._workflow_id = protocol.registry_workflow_id(prefix)
        self._log = log

    async def declare(self) -> dict[str, Any]:
        """Declares with Update-With-Start: the first worker of a prefix starts its registry."""
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            protocol.REGISTRY_WORKFLOW_TYPE,
            {"state": None},
            id=self._workflow_id,
            task_queue=protocol.registry_task_queue(self._prefix),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        try:
            result: dict[str, Any] = await self._client.execute_update_with_start_workflow(
                protocol.DECLARE_WORKER_UPDATE, self._message, start_workflow_operation=start, result_type=dict
            )
        except BaseException:
            await _read_start_error(start)
            raise
        return result

    async def _renew(self) -> None:
        await self._client.get_workflow_handle(self._workflow_id).execute_update(
            protocol.RENEW_LEASE_UPDATE, self._worker_ref
        )

    async def keep(self, stopping: asyncio.Event) -> None:
        """Declares, then renews until ``stopping`` is set; declares again whenever the registry no longer knows this
        worker (its lease ran out while the process was stalled, or the registry was reset). Never raises: a registry
        out of reach is logged and tried again, and the worker goes on serving what the job workflows send it."""
        renew_every = self._message["leaseSeconds"] / 3

        def waiting(seconds: float) -> None:
            # An update waits for the registry's worker to take it, without an error, for as long as it is down.
            self._log.warning(
                "the job type registry has not answered for %d s (is the service worker running?); this worker does"
                " not count as live meanwhile",
                round(seconds),
            )

        declared = False
        unreachable_since: float | None = None
        while not stopping.is_set():
            try:
                if declared:
                    await _until_set(stopping, self._renew(), waiting, self._message["leaseSeconds"])
                else:
                    answer = await _until_set(stopping, self.declare(), waiting, self._message["leaseSeconds"])
                    if answer is None:
                        break
                    declared = True
                    self._log.info(
                        "declared its job types to the registry: %s",
                        ", ".join(each["name"] for each in self._message["jobTypes"]),
                    )
                    for differing in answer.get("differing", []):
                        self._log.warning(
                            "job type %s: %d other live worker(s) declare it differently; this declaration is now"
                            " the one the API validates against",
                            differing["name"],
                            differing["otherWorkers"],
                        )
                unreachable_since = None
            except Exception as err:
                if declared and _is_not_declared(err):
                    # At once, and once: a declaration that fails is logged and tried again at the next tick.
                    declared = False
                    continue
                unreachable_since = unreachable_since or time.monotonic()
                self._log.warning(
                    "could not reach the job type registry for %d s (is the service worker running?): %s",
                    round(time.monotonic() - unreachable_since),
                    err,
                )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stopping.wait(), renew_every)

    async def leave(self, timeout_seconds: float = 3) -> None:
        """At graceful shutdown: the worker stops counting at once rather than when its lease runs out."""
        try:
            await asyncio.wait_for(
                self._client.get_workflow_handle(self._workflow_id).execute_update(
                    protocol.LEAVE_UPDATE, self._worker_ref
                ),
                timeout_seconds,
            )
        except Exception as err:
            self._log.warning("could not leave the job type registry: %s", err)


async def _read_start_error(start: WithStartWorkflowOperation[Any, Any]) -> None:
    """Reads the error the SDK set on the start operation of a declaration that failed (the server out of reach or
    refusing it, or the call cancelled at a stop while the registry's worker is down), which this lease has no use for:
    asyncio logs an error left unread, with a traceback, as 'Future exception was never retrieved'.

    The SDK sets an RPC's error or a cancellation there before the call raises, so ``workflow_handle()`` answers at
    once; any other error (a payload codec's, an interceptor's) sets nothing, and it would wait for good: hence 1 s.
    What it raises is suppressed, a CancelledError too (the one the SDK set, or one that comes while it reads): the
    declaration raises its own error all the same."""
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await asyncio.wait_for(start.workflow_handle(), 1)


async def _until_set(stopping: asyncio.Event, call: Any, waiting: Callable[[float], None], every_seconds: float) -> Any:
    """``call``'s answer, or None once ``stopping`` is set first (the call is then cancelled). Tells ``waiting`` how
    long the call has been waiting, every ``every_seconds`` it has not answered."""
    task = asyncio.ensure_future(call)
    stop = asyncio.ensure_future(stopping.wait())
    began = time.monotonic()
    try:
        while not (await asyncio.wait({task, stop}, timeout=every_seconds, return_when=asyncio.FIRST_COMPLETED))[0]:
            waiting(time.monotonic() - began)
    except BaseException:
        # This lease's own task was cancelled (serve() was): the call ends with it rather than run on for good.
        task.cancel()
        task.add_done_callback(_read_end)
        raise
    finally:
        stop.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        return None
    return task.result()


def _read_end(task: asyncio.Future[Any]) -> None:
    """Reads how a call no one awaits ended, so that asyncio does not log it as an error left unread."""
    if not task.cancelled():
        task.exception()
