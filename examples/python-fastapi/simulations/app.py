"""The simulations API, in the shape of an RQ-backed FastAPI app, submitting to durable-jobs instead of a Redis queue.

    POST /simulations              202 {"id", "status"}; an Idempotency-Key header becomes the job id
    GET  /simulations/{id}         its status, progress, result, error
    POST /simulations/{id}/cancel  202: the running attempt is cancelled, the job ends cancelled
    POST /reports                  202 {"id", "status"}: a report of a simulation
    GET  /reports/{id}

Run it from examples/python-fastapi with ``uvicorn simulations.app:app``. ``DURABLE_JOBS_URL`` (default
http://localhost:3000) is the job service's API, ``DURABLE_JOBS_API_KEY`` the tenant's key when it has keys.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from durable_jobs import (
    ApiError,
    AsyncClient,
    ConflictError,
    DurableJobsError,
    InvalidRequestError,
    Job,
    JobError,
    JobStatus,
    NotFoundError,
    Priority,
)
from fastapi import Depends, FastAPI, Header, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from simulations.jobs import ReportInput, SimulationInput
from simulations.settings import API_KEY, API_URL


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # One client (one connection pool) for the app's life, as an RQ app keeps one Redis connection.
    async with AsyncClient(API_URL, api_key=API_KEY) as jobs:
        app.state.jobs = jobs
        yield


app = FastAPI(title="Simulations", lifespan=lifespan)


def jobs_client(request: Request) -> AsyncClient:
    jobs: AsyncClient = request.app.state.jobs
    return jobs


Jobs = Annotated[AsyncClient, Depends(jobs_client)]
IdempotencyKey = Annotated[str | None, Header(description="Becomes the job id: the same key submits once.")]


class SimulationRequest(SimulationInput):
    priority: Priority = "normal"


class ReportRequest(ReportInput):
    priority: Priority = "normal"


class Accepted(BaseModel):
    id: str
    status: JobStatus


class ProgressView(BaseModel):
    percent: float | None
    message: str | None


class ErrorView(BaseModel):
    type: str
    message: str


class JobView(BaseModel):
    id: str
    status: JobStatus
    attempt: int
    max_attempts: int
    progress: ProgressView | None
    result: Any
    error: ErrorView | None
    """Why the job failed, once it has ended without success."""
    last_error: ErrorView | None
    """Why the last attempt failed, while the job is retried."""


def job_view(job: Job) -> JobView:
    def error(value: JobError | None) -> ErrorView | None:
        return None if value is None else ErrorView(type=value.type, message=value.message)

    progress = job.progress
    return JobView(
        id=job.job_id,
        status=job.status,
        attempt=job.attempt,
        max_attempts=job.max_attempts,
        progress=None if progress is None else ProgressView(percent=progress.percent, message=progress.message),
        result=job.result,
        error=error(job.error),
        last_error=error(job.last_error),
    )


@app.exception_handler(DurableJobsError)
async def job_service_failed(request: Request, exc: DurableJobsError) -> JSONResponse:
    """What the routes leave to it: the job service unreachable, overloaded or refusing this app's key."""
    if isinstance(exc, ApiError) and exc.status == 429:
        headers = {} if exc.retry_after is None else {"Retry-After": str(round(exc.retry_after))}
        return JSONResponse({"detail": "too many jobs: try again later"}, status_code=429, headers=headers)
    status = 502 if isinstance(exc, ApiError) and exc.status < 500 else 503
    return JSONResponse({"detail": f"job service: {exc}"}, status_code=status)


async def submit(
    jobs: AsyncClient,
    type: str,
    input: BaseModel,
    priority: Priority,
    job_id: str | None,
    response: Response,
    path: str,
) -> Accepted:
    try:
        job = await jobs.submit(type, input.model_dump(mode="json"), job_id=job_id, priority=priority)
    except InvalidRequestError as err:  # the input is checked here first, so only a bad Idempotency-Key gets here
        raise HTTPException(400, err.message) from err
    except ConflictError as err:
        raise HTTPException(409, "this Idempotency-Key was used for another request") from err
    response.headers["Location"] = f"{path}/{job.job_id}"
    return Accepted(id=job.job_id, status=job.status)


async def read(jobs: AsyncClient, type: str, job_id: str) -> Job:
    try:
        job = await jobs.get(job_id)
    except (NotFoundError, InvalidRequestError) as err:  # a malformed id is no job either
        raise HTTPException(404, f"no {type} job {job_id}") from err
    if job.type != type:
        raise HTTPException(404, f"no {type} job {job_id}")
    return job


@app.post("/simulations", status_code=202)
async def submit_simulation(
    body: SimulationRequest, jobs: Jobs, response: Response, idempotency_key: IdempotencyKey = None
) -> Accepted:
    input = SimulationInput.model_validate(body.model_dump(exclude={"priority"}))
    return await submit(jobs, "simulate", input, body.priority, idempotency_key, response, "/simulations")


@app.get("/simulations/{simulation_id}")
async def get_simulation(simulation_id: str, jobs: Jobs) -> JobView:
    return job_view(await read(jobs, "simulate", simulation_id))


@app.post("/simulations/{simulation_id}/cancel", status_code=202)
async def cancel_simulation(simulation_id: str, jobs: Jobs) -> JobView:
    await read(jobs, "simulate", simulation_id)
    try:
        return job_view(await jobs.cancel(simulation_id))
    except ConflictError as err:
        raise HTTPException(409, f"simulation {simulation_id} has already finished") from err


@app.post("/reports", status_code=202)
async def submit_report(
    body: ReportRequest, jobs: Jobs, response: Response, idempotency_key: IdempotencyKey = None
) -> Accepted:
    input = ReportInput.model_validate(body.model_dump(exclude={"priority"}))
    return await submit(jobs, "report", input, body.priority, idempotency_key, response, "/reports")


@app.get("/reports/{report_id}")
async def get_report(report_id: str, jobs: Jobs) -> JobView:
    return job_view(await read(jobs, "report", report_id))
