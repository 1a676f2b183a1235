"""serve() and its registry lease as a process runs them, against the Temporal server of the service under test
(``DURABLE_JOBS_TEMPORAL_ADDRESS``; skipped without it): what they do once the stop begins."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import uuid

import pytest
from temporalio.client import Client

from durable_jobs._registry import RegistryLease

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="session")
def temporal_address() -> str:
    address = os.environ.get("DURABLE_JOBS_TEMPORAL_ADDRESS")
    if not address:
        pytest.skip("DURABLE_JOBS_TEMPORAL_ADDRESS is not set: no Temporal server to test against")
    return address


async def test_a_declaration_cancelled_at_the_stop_leaves_no_error_for_asyncio_to_log(
    temporal_address: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The declaration waits for a registry nobody runs yet (the service's worker is not up) when the stop comes. The
    # SDK sets the cancelled Update-With-Start's error on its start operation too, and asyncio logged it once
    # collected, an ERROR with a traceback ("Future exception was never retrieved"); so did every declaration the
    # server refused (a wrong namespace: one a tick).
    client = await Client.connect(temporal_address)
    lease = RegistryLease(
        client,
        f"py-lease-{uuid.uuid4().hex[:8]}",
        {"workerId": f"py-lease-{uuid.uuid4().hex[:8]}", "leaseSeconds": 3, "jobTypes": [{"name": "t"}]},
        logging.getLogger("durable_jobs.test"),
    )
    stop = asyncio.Event()
    keeping = asyncio.create_task(lease.keep(stop))
    await asyncio.sleep(1)
    stop.set()
    await asyncio.wait_for(keeping, 5)
    del keeping
    gc.collect()
    await asyncio.sleep(0)
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == []
