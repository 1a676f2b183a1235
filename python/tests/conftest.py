"""Fixtures: the service under test comes from the environment (``test/python.test.ts`` starts one and sets them).

- ``DURABLE_JOBS_BASE_URL``: the API's base URL; without it the tests that need the service are skipped.
- ``DURABLE_JOBS_API_KEY``: a tenant's key, when the API has keys configured.
- ``DURABLE_JOBS_TENANT``: the tenant of that key (``default`` without keys).
- ``DURABLE_JOBS_OTHER_API_KEY``: another tenant's key (tenant isolation as the client sees it), optional.
- ``DURABLE_JOBS_TEMPORAL_ADDRESS``: the service's Temporal frontend, for the worker's tests (``test_serve.py``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest

from durable_jobs import AsyncClient, Client


@pytest.fixture(scope="session")
def base_url() -> str:
    url = os.environ.get("DURABLE_JOBS_BASE_URL")
    if not url:
        pytest.skip("DURABLE_JOBS_BASE_URL is not set: no service to test against")
    return url


@pytest.fixture(scope="session")
def api_key() -> str | None:
    return os.environ.get("DURABLE_JOBS_API_KEY") or None


@pytest.fixture(scope="session")
def tenant() -> str:
    return os.environ.get("DURABLE_JOBS_TENANT") or "default"


@pytest.fixture
def client(base_url: str, api_key: str | None) -> Iterator[Client]:
    with Client(base_url, api_key=api_key) as jobs:
        yield jobs


@pytest.fixture
async def async_client(base_url: str, api_key: str | None) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(base_url, api_key=api_key) as jobs:
        yield jobs


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
