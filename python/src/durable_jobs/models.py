"""The REST contract's shapes as pydantic models, with snake_case names for the API's camelCase fields.

They are written by hand, for readable names, and checked against the service's OpenAPI document by
``tests/test_openapi_drift.py``: a field, a required field, an enum value or a type that differs fails it.
Answers ignore fields they do not know, so an older client keeps reading a newer service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

JobStatus = Literal["queued", "running", "succeeded", "failed", "timed_out", "cancelled"]
"""``queued`` and ``running`` go on; the other four are end states."""

FINISHED_STATUSES: frozenset[JobStatus] = frozenset({"succeeded", "failed", "timed_out", "cancelled"})

Priority = Literal["high", "normal", "low"]

ErrorCode = Literal[
    "invalid_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "conflict",
    "payload_too_large",
    "unsupported_media_type",
    "rate_limited",
    "internal",
    "unavailable",
    "outcome_unknown",
]

ChildFailurePolicy = Literal["fail", "continue"]
ScheduleOverlap = Literal["skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all"]
CallbackStatus = Literal["pending", "delivered", "failed"]


class ApiModel(BaseModel):
    """An answer of the API: read-only, camelCase on the wire, unknown fields ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        frozen=True,
        extra="ignore",
    )


class RequestModel(BaseModel):
    """A request body: camelCase on the wire, unknown fields refused here as the API would."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
    )

    def to_json_body(self) -> dict[str, Any]:
        """The body as the API takes it: camelCase, fields left unset omitted (the API applies its defaults)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- the job -------------------------------------------------------------------------------------


class Progress(ApiModel):
    """What the job's handler last reported."""

    percent: float | None
    message: str | None


class JobError(ApiModel):
    """Why an attempt, a job or a callback delivery failed: the error's type and message, and what the handler
    attached to its failure (a failed command's ``exitCode``, ``stdoutTail`` and ``stderrTail``)."""

    type: str
    message: str
    details: dict[str, Any] | None = None


class CallbackDelivery(ApiModel):
    """Delivery of the finished job to its ``callbackUrl``."""

    status: CallbackStatus
    attempts: int
    last_error: JobError | None


class ChildJobStatus(ApiModel):
    """A parent job's child, as the parent last saw it (get the child for its live state)."""

    job_id: str
    status: JobStatus


class JobLinks(ApiModel):
    self_link: str = Field(alias="self")
    """The job's path in this API."""
    ui: str
    """The job's page in the Temporal Web UI."""
    trace: str | None = None
    """The job's trace in the trace viewer (TRACE_UI_URL); only when it was traced and TRACE_UI_URL is set."""


class Job(ApiModel):
    """A job as the API answers it (contract section 1)."""

    job_id: str
    type: str
    priority: Priority
    status: JobStatus
    attempt: int
    """Attempts started so far."""
    max_attempts: int
    progress: Progress | None
    input: Any
    result: Any
    error: JobError | None
    """Why a finished job did not succeed."""
    last_error: JobError | None
    """The last failed attempt's error while the job is still going."""
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    run_at: datetime | None
    """A delayed job's first attempt starts no earlier than this."""
    run: int
    """1 for the first run; each retry of a finished job adds one."""
    callback: CallbackDelivery | None
    children: list[ChildJobStatus] | None
    tags: list[str]
    """The ``key:value`` tags it was submitted with."""
    trace_id: str | None
    """The OpenTelemetry trace the submit (or retry) was in, when the API exports traces."""
    links: JobLinks

    @property
    def finished(self) -> bool:
        """True in an end state: succeeded, failed, timed_out or cancelled."""
        return self.status in FINISHED_STATUSES


class JobList(ApiModel):
    """One page of jobs, newest first; ``next_cursor`` asks for the next one."""

    jobs: list[Job]
    next_cursor: str | None
    total: int | None = None
    """With ``total=True``: the jobs under the filters, every page together."""


class StatusCounts(ApiModel):
    """Jobs per status; the statuses' own names on the wire."""

    queued: int
    running: int
    succeeded: int
    failed: int
    timed_out: int = Field(alias="timed_out")
    cancelled: int


class JobCounts(ApiModel):
    """The tenant's jobs under the filters (``total``), and per status."""

    total: int
    counts: StatusCounts


# --- submitting ----------------------------------------------------------------------------------


class RetryPolicy(RequestModel):
    """Retries of a job's attempts; what is left out comes from the job type's defaults."""

    max_attempts: int | None = None
    initial_interval_seconds: float | None = None
    backoff_coefficient: float | None = None
    maximum_interval_seconds: float | None = None


class ScheduledJobBody(RequestModel):
    """The job a schedule submits at each run (its job id is ``<scheduleId>-<scheduled time>``)."""

    type: str
    input: Any = None
    priority: Priority | None = None
    timeout_seconds: int | None = None
    heartbeat_timeout_seconds: int | None = None
    retry: RetryPolicy | None = None
    callback_url: str | None = None
    tags: list[str] | None = None
    """Up to 10 ``key:value`` tags, e.g. ``workspace:acme-eu``."""


class ChildJobBody(ScheduledJobBody):
    """A child of a submitted job; its job id is ``<parent jobId>.<index>`` unless it names one."""

    job_id: str | None = None
    delay_seconds: float | None = None
    run_at: datetime | None = None


class SubmitJobBody(ChildJobBody):
    """The body of ``POST /api/v1/jobs`` (and of each item of a batch)."""

    children: list[ChildJobBody] | None = None
    on_child_failure: ChildFailurePolicy | None = None


class JobBatchBody(RequestModel):
    jobs: list[SubmitJobBody]


class BatchItemError(ApiModel):
    """Why one item of a batch was refused: the error body it alone would have had."""

    code: str
    message: str
    details: list[Any] | None = None


class BatchItemResult(ApiModel):
    """One item of a batch: ``job`` when it was accepted, ``error`` when refused."""

    index: int
    status: int
    """The HTTP status this item alone would have had."""
    job: Job | None = None
    error: BatchItemError | None = None


class JobBatchResult(ApiModel):
    results: list[BatchItemResult]


AttemptOutcome = Literal["queued", "running", "succeeded", "failed", "timed_out", "cancelled"]
"""``queued``: waiting for a worker; ``running``; or how the attempt ended."""


class JobAttempt(ApiModel):
    """One attempt of a job's run: when it was scheduled, started and ended, and how."""

    attempt: int
    scheduled_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    outcome: AttemptOutcome
    error: JobError | None
    duration_ms: int | None


class JobAttempts(ApiModel):
    """The attempts of a job's latest run (``GET /api/v1/jobs/{jobId}/attempts``)."""

    job_id: str
    run: int
    attempts: list[JobAttempt]
    next_attempt_at: datetime | None
    """During a backoff between attempts, when the next one is scheduled."""
    schedule_id: str | None
    """The schedule that started the job, or None."""


LogLevel = Literal["debug", "info", "warn", "error"]


class JobLogLine(ApiModel):
    """One line a job's handler logged (or its command printed) in one attempt."""

    attempt: int
    seq: int
    """The line's place in its attempt, from 1; lines dropped past the attempt's bounds leave a gap."""
    time: datetime
    level: LogLevel
    message: str
    trace_id: str | None
    """The OpenTelemetry trace id of the attempt, when the job was traced."""


class JobLogs(ApiModel):
    """A page of one attempt's log lines (``GET /api/v1/jobs/{jobId}/logs``)."""

    job_id: str
    attempt: int | None
    """The attempt these lines are of; None before the first one."""
    attempts: int
    attempt_ended: bool
    """No line will be added to the attempt; while False, ask again with ``after=next_after``."""
    lines: list[JobLogLine]
    next_after: int
    """The ``after`` of the next page."""
    has_more: bool


class JobChangedEvent(BaseModel):
    """An event of a job's stream (``follow``): the job, first as it is, then each time it changes."""

    model_config = ConfigDict(frozen=True)

    type: Literal["job"] = "job"
    job: Job


class JobLogEvent(BaseModel):
    """An event of a job's stream (``follow``): a line its running attempt logged."""

    model_config = ConfigDict(frozen=True)

    type: Literal["log"] = "log"
    line: JobLogLine


JobEvent = JobChangedEvent | JobLogEvent
"""What ``follow`` yields, told apart by ``type`` (``"job"`` or ``"log"``): an attempt's last lines come before the
job event that says it ended."""


class BulkJobsBody(RequestModel):
    """The body of ``POST /api/v1/jobs/cancel`` and ``…/retry``: 1 to 100 distinct job ids."""

    job_ids: list[str]


class BulkItemError(ApiModel):
    code: ErrorCode
    message: str


class BulkItemResult(ApiModel):
    """One job of a bulk action: ``job_status`` when it was acted on (202), ``error`` when refused."""

    job_id: str
    status: int
    """The HTTP status this job alone would have had."""
    job_status: JobStatus | None = None
    error: BulkItemError | None = None


class BulkJobsResult(ApiModel):
    results: list[BulkItemResult]


# --- errors --------------------------------------------------------------------------------------


class ErrorDetail(ApiModel):
    code: ErrorCode
    message: str
    details: list[Any] | None = None


class ErrorBody(ApiModel):
    """Every 4xx and 5xx answer's body."""

    error: ErrorDetail


# --- schedules -----------------------------------------------------------------------------------


class CreateScheduleBody(RequestModel):
    schedule_id: str
    cron: str | None = None
    timezone: str | None = None
    interval_seconds: int | None = None
    job: ScheduledJobBody
    paused: bool | None = None
    overlap: ScheduleOverlap | None = None


class ScheduledRun(ApiModel):
    job_id: str
    scheduled_at: datetime


class Schedule(ApiModel):
    """A Temporal Schedule that submits a job by cron or interval."""

    schedule_id: str
    cron: str | None
    timezone: str | None
    """The IANA time zone ``cron`` is read in (``UTC`` unless one was given); None for an interval."""
    interval_seconds: float | None
    job: dict[str, Any]
    """The submit body each run sends, as the schedule holds it."""
    paused: bool
    overlap: str
    next_run_times: list[datetime]
    recent_jobs: list[ScheduledRun]
    created_at: datetime
    skipped_runs: int
    """Runs that found the tenant at its cap of unfinished jobs and ended at once."""
    last_skipped_at: datetime | None


class ScheduleList(ApiModel):
    schedules: list[Schedule]


# --- inbound webhooks ----------------------------------------------------------------------------


class CreateHookBody(RequestModel):
    type: str
    input_from: dict[str, str] | None = None
    """Input field -> JSON pointer into the delivery's body; None: the whole body is the input."""
    priority: Priority | None = None
    enabled: bool | None = None
    description: str | None = None
    secret: str | None = None
    """The signing secret, when the sender makes its own (Stripe); None: the service makes one."""


class UpdateHookBody(RequestModel):
    enabled: bool


class Hook(ApiModel):
    """An inbound webhook: a signed POST to ``url`` (public, no key) submits a job of ``type``."""

    hook_id: str
    url: str
    type: str
    input_from: dict[str, str] | None
    priority: Priority
    enabled: bool
    description: str | None
    created_at: datetime
    updated_at: datetime


class CreatedHook(Hook):
    """The hook as its creation answers it: with the signing secret, shown this once."""

    secret: str


class HookList(ApiModel):
    hooks: list[Hook]


# --- job types and queues ------------------------------------------------------------------------


class RetryDefaults(ApiModel):
    max_attempts: int
    initial_interval_seconds: float
    backoff_coefficient: float
    maximum_interval_seconds: float


class JobTypeDefaults(ApiModel):
    timeout_seconds: int
    heartbeat_timeout_seconds: int
    retry: RetryDefaults


class PartialRetryDefaults(ApiModel):
    max_attempts: int | None = None
    initial_interval_seconds: float | None = None
    backoff_coefficient: float | None = None
    maximum_interval_seconds: float | None = None


class PartialJobTypeDefaults(ApiModel):
    timeout_seconds: int | None = None
    heartbeat_timeout_seconds: int | None = None
    retry: PartialRetryDefaults | None = None


class DefaultsCase(ApiModel):
    """Defaults for the inputs whose ``field`` equals ``equals``, over the type's own (a command's manifest)."""

    field: str
    equals: Any
    """A string, number or boolean."""
    defaults: PartialJobTypeDefaults


class JobTypeWorkers(ApiModel):
    """Live worker processes serving a job type, per priority."""

    high: int
    normal: int
    low: int


class JobType(ApiModel):
    """A job type the registry knows: its schemas, the defaults a submit leaves out, and who serves it."""

    name: str
    description: str
    input_schema: dict[str, Any]
    result_schema: dict[str, Any] | None
    defaults: JobTypeDefaults
    defaults_when: list[DefaultsCase] | None = None
    revision: int
    workers: JobTypeWorkers
    live_variants: int
    """Distinct declarations among live workers: 2 or more during a rolling upgrade."""


class JobTypeList(ApiModel):
    types: list[JobType]


class QueueFigures(ApiModel):
    """One priority's task queue and the caller's tenant's jobs on it."""

    priority: Priority
    task_queue: str
    backlog: int | None
    """Attempts waiting in the task queue as the server estimates it; None where it cannot say."""
    pollers: int | None
    queued_jobs: int
    running_jobs: int


class TypeQueueFigures(ApiModel):
    """One job type's task queue at one priority, its live workers, and why its jobs wait when none serves it."""

    type: str
    priority: Priority
    task_queue: str
    workers: int
    backlog: int | None
    pollers: int | None
    queued_jobs: int
    waiting: str | None


class QueueList(ApiModel):
    queues: list[QueueFigures]
    types: list[TypeQueueFigures]


class Whoami(ApiModel):
    tenant: str
    """The tenant the caller's API key acts as; ``default`` when the API has no keys configured."""
