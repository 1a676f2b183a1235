"""The worker protocol's names and defaults (``docs/worker-protocol.md``), as the service's
``src/contract/job-type-declaration.ts`` defines them: what a handler worker declares and the queues it polls."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Final, Literal

PROTOCOL_VERSION: Final = 1

Priority = Literal["high", "normal", "low"]
PRIORITIES: Final[tuple[Priority, ...]] = ("high", "normal", "low")

#: Lower-case so that ``Primes`` and ``primes`` cannot become two task queues; no ``:``, which separates their parts.
JOB_TYPE_NAME: Final = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
TASK_QUEUE_PREFIX: Final = re.compile(r"^[A-Za-z0-9._-]{1,100}$")

REGISTRY_WORKFLOW_TYPE: Final = "jobTypeRegistryWorkflow"
DECLARE_WORKER_UPDATE: Final = "declareWorker"
RENEW_LEASE_UPDATE: Final = "renewLease"
LEAVE_UPDATE: Final = "leave"
#: The failure type of a renewal the registry does not take (unknown or expired worker): declare again.
WORKER_NOT_DECLARED: Final = "WorkerNotDeclared"
ATTEMPT_STARTED_SIGNAL: Final = "attemptStarted"
#: The failure type that ends a job at once, whatever attempts remain.
UNRECOVERABLE_ERROR_TYPE: Final = "UnrecoverableError"
INPUT_REJECTED_TYPE: Final = "InputRejected"
RESULT_REJECTED_TYPE: Final = "ResultRejected"

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
MAX_SCHEMA_CHARS: Final = 65_536
#: The most the registry's state takes as JSON (UTF-8), and so the most one worker's declarations may: its query's
#: answer and the state it continues as new with are each one payload, which Temporal refuses past 2 MiB.
REGISTRY_MAX_BYTES: Final = 1024 * 1024

DEFAULT_TIMEOUT_SECONDS: Final = 3600
DEFAULT_HEARTBEAT_TIMEOUT_SECONDS: Final = 30
DEFAULT_RETRY: Final[dict[str, Any]] = {
    "maxAttempts": 3,
    "initialIntervalSeconds": 1,
    "backoffCoefficient": 2,
    "maximumIntervalSeconds": 60,
}


def job_type_task_queue(prefix: str, job_type: str, priority: Priority) -> str:
    """The task queue of one job type's attempts at one priority: only workers with the type's handler poll it."""
    return f"{prefix}:{job_type}:{priority}"


def registry_workflow_id(prefix: str) -> str:
    """``#`` is in no job id, tenant or prefix, so no job can take the registry's id."""
    return f"{prefix}#job-type-registry"


def registry_task_queue(prefix: str) -> str:
    """The registry runs on the job workflows' queue, served by the service's own workers."""
    return f"{prefix}-workflows"


#: What an attempt keeps of its log lines: the last 1,000 and 256 KiB of messages, each message cut at 8 KiB.
LOG_MAX_LINES: Final = 1000
LOG_MAX_BYTES: Final = 256 * 1024
LOG_MAX_MESSAGE_BYTES: Final = 8 * 1024


def now_iso() -> str:
    """This machine's time as the worker protocol writes times: ISO 8601 in UTC, to the millisecond."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
