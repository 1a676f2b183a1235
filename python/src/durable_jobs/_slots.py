"""The attempts one priority runs at once, shared by that priority's workers of every job type
(``docs/worker-protocol.md``, "Capacity: one slot pool per priority")."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass

from temporalio.worker import (
    CustomSlotSupplier,
    SlotMarkUsedContext,
    SlotPermit,
    SlotReleaseContext,
    SlotReserveContext,
)


class QueuePermit(SlotPermit):
    """A permit says which worker (task queue) holds it, so that releases are counted per worker."""

    def __init__(self, task_queue: str) -> None:
        self.task_queue = task_queue


@dataclass
class _Waiter:
    task_queue: str
    loop: asyncio.AbstractEventLoop
    granted: asyncio.Future[QueuePermit]
    #: Set (under the pool's lock) when granted: counted open from then, even before the waiting task resumes.
    permit: QueuePermit | None = None


class PrioritySlotPool(CustomSlotSupplier):
    """Temporal reserves a slot before each poll, and an idle type's poll holds its reservation for up to a minute, so
    a pool of reservations alone would let idle types starve a busy one. A reservation is granted while running
    attempts and open reservations together stay under the capacity, and also to a worker with no reservation open
    while fewer than ``capacity`` attempts run: every type can always poll. At the busiest instant at most
    capacity + types - 1 attempts run, and no poll opens again until fewer than ``capacity`` do.

    The SDK calls ``mark_slot_used`` and ``release_slot`` from its core's threads, hence the lock, and waiters are
    woken on their own event loop.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.running = 0
        self._open: Counter[str] = Counter()
        self._waiting: list[_Waiter] = []
        self._lock = threading.Lock()

    def _may_grant(self, task_queue: str) -> bool:
        if self.running + self._open.total() < self.capacity:
            return True
        return self.running < self.capacity and self._open[task_queue] == 0

    def _grant(self, task_queue: str) -> QueuePermit:
        self._open[task_queue] += 1
        return QueuePermit(task_queue)

    async def reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._may_grant(ctx.task_queue):
                return self._grant(ctx.task_queue)
            waiter = _Waiter(ctx.task_queue, loop, loop.create_future())
            self._waiting.append(waiter)
        try:
            return await waiter.granted
        except asyncio.CancelledError:
            # The SDK abandons a reservation by cancelling this task (a shutdown, a poller let go).
            with self._lock:
                if waiter.permit is None:
                    self._waiting.remove(waiter)
                else:
                    self._open[waiter.task_queue] -= 1
                    self._wake()
            raise

    def try_reserve_slot(self, ctx: SlotReserveContext) -> SlotPermit | None:
        with self._lock:
            return self._grant(ctx.task_queue) if self._may_grant(ctx.task_queue) else None

    def mark_slot_used(self, ctx: SlotMarkUsedContext) -> None:
        with self._lock:
            self._open[_task_queue_of(ctx.permit)] -= 1
            self.running += 1
            # The SDK asks a worker's next reservation before it marks the last one used: that ask may have waited
            # only on the reservation now used, and fewer than ``capacity`` may still run.
            self._wake()

    def release_slot(self, ctx: SlotReleaseContext) -> None:
        with self._lock:
            # A poll that timed out releases a reservation it never used.
            if ctx.slot_info is not None:
                self.running -= 1
            else:
                self._open[_task_queue_of(ctx.permit)] -= 1
            self._wake()

    def _wake(self) -> None:
        """Grants waiting reservations in order, as far as the rules allow (each grant changes what the next gets)."""
        still: list[_Waiter] = []
        for waiter in self._waiting:
            if not self._may_grant(waiter.task_queue):
                still.append(waiter)
                continue
            waiter.permit = self._grant(waiter.task_queue)
            waiter.loop.call_soon_threadsafe(_deliver, waiter)
        self._waiting = still


def _deliver(waiter: _Waiter) -> None:
    if not waiter.granted.done() and waiter.permit is not None:
        waiter.granted.set_result(waiter.permit)


def _task_queue_of(permit: SlotPermit) -> str:
    if not isinstance(permit, QueuePermit):
        raise TypeError(f"a slot permit this pool did not grant: {permit!r}")
    return permit.task_queue
