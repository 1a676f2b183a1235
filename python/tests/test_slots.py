"""The slot pool of one priority, shared by its job types' workers: the rules of docs/worker-protocol.md."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from temporalio.worker import SlotPermit, SlotReleaseContext

from durable_jobs._slots import PrioritySlotPool

pytestmark = pytest.mark.anyio


@dataclass
class Reserve:
    task_queue: str
    slot_type: str = "activity"
    worker_identity: str = "w"
    worker_build_id: str = ""
    worker_deployment_version: None = None
    is_sticky: bool = False


@dataclass
class Used:
    permit: SlotPermit
    slot_info: object = None


@dataclass
class Info:
    activity_type: str = "t"


def use(pool: PrioritySlotPool, permit: SlotPermit) -> None:
    pool.mark_slot_used(Used(permit, Info()))  # type: ignore[arg-type]


async def test_reservations_are_granted_under_the_capacity_and_one_per_idle_type() -> None:
    pool = PrioritySlotPool(2)
    a1 = await pool.reserve_slot(Reserve("a"))  # type: ignore[arg-type]
    a2 = await pool.reserve_slot(Reserve("a"))  # type: ignore[arg-type]
    assert pool.try_reserve_slot(Reserve("a")) is None  # type: ignore[arg-type]
    # Another type with no open reservation may still poll while fewer than 2 run.
    b1 = pool.try_reserve_slot(Reserve("b"))  # type: ignore[arg-type]
    assert b1 is not None
    use(pool, a1)
    use(pool, a2)
    assert pool.running == 2
    # Full: nobody else may open one, not even a type with none open.
    assert pool.try_reserve_slot(Reserve("c")) is None  # type: ignore[arg-type]


async def test_a_waiting_reservation_is_granted_when_a_slot_is_released() -> None:
    pool = PrioritySlotPool(1)
    first = await pool.reserve_slot(Reserve("a"))  # type: ignore[arg-type]
    use(pool, first)
    waiting = asyncio.ensure_future(pool.reserve_slot(Reserve("a")))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    assert not waiting.done()
    pool.release_slot(SlotReleaseContext(slot_info=Info(), permit=first))
    assert await asyncio.wait_for(waiting, 1) is not None


async def test_an_abandoned_reservation_counts_no_more() -> None:
    pool = PrioritySlotPool(1)
    first = await pool.reserve_slot(Reserve("a"))  # type: ignore[arg-type]
    use(pool, first)
    waiting = asyncio.ensure_future(pool.reserve_slot(Reserve("a")))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    pool.release_slot(SlotReleaseContext(slot_info=Info(), permit=first))
    # An unused reservation released (a poll that timed out) frees its place too.
    again = await pool.reserve_slot(Reserve("a"))  # type: ignore[arg-type]
    pool.release_slot(SlotReleaseContext(slot_info=None, permit=again))
    assert pool.try_reserve_slot(Reserve("a")) is not None  # type: ignore[arg-type]


async def test_a_poll_that_brings_an_attempt_lets_its_queue_open_the_next_at_once() -> None:
    # The SDK asks a worker's next reservation before it marks the last one used (its poll returned a task, which
    # the worker takes a moment later). With the pool full of open polls (its type's and an idle type's), that ask
    # waits only on the queue's own open reservation: marking it used must grant it, not leave it to the next release.
    pool = PrioritySlotPool(2)
    a1 = await pool.reserve_slot(Reserve("a"))  # type: ignore[arg-type]
    # An idle type's poll, open for up to a minute.
    await pool.reserve_slot(Reserve("b"))  # type: ignore[arg-type]
    a2 = asyncio.ensure_future(pool.reserve_slot(Reserve("a")))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    assert not a2.done(), "a's poll is still open: the pool is full"
    use(pool, a1)
    # One attempt runs of two slots, and a's poll is no longer open: a may poll for its second.
    assert await asyncio.wait_for(a2, 1) is not None
