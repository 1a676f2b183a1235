"""The job types of the simulations, served by one worker command (from examples/python-fastapi):

    durable-jobs worker simulations.jobs:simulate simulations.jobs:report --queues high:2,normal:8

What were RQ functions (``q.enqueue(run_simulation, steps, seed)``) are declared job types: the service validates
each submitted input against the pydantic model's JSON Schema, and decides retries, timeouts and cancellation; this
module only runs attempts. An attempt may run more than once (a worker killed mid-attempt is retried elsewhere),
so each handler gives the same outcome when run again: the walk is seeded, the report only reads.
"""

import asyncio
import random
from typing import Literal

from durable_jobs import Client, JobContext, NotFoundError, UnrecoverableError, job_type
from pydantic import BaseModel, Field

from simulations.settings import API_KEY, API_URL


class SimulationInput(BaseModel):
    steps: int = Field(ge=1, le=10_000, description="Steps of the random walk.")
    seed: int = Field(default=0, description="The same seed gives the same walk, on any attempt.")
    step_seconds: float = Field(default=0.1, ge=0, le=60, description="How long one step takes.")


class SimulationResult(BaseModel):
    steps: int
    seed: int
    final: float
    low: float
    high: float


@job_type(
    name="simulate",
    description="Runs a seeded random walk of `steps` steps, reporting progress at each step.",
    timeout_seconds=3600,
    max_attempts=3,
)
async def simulate(input: SimulationInput, ctx: JobContext) -> dict[str, float]:
    rng = random.Random(input.seed)
    position = low = high = 0.0
    for step in range(input.steps):
        await ctx.progress(100 * step / input.steps, f"step {step + 1} of {input.steps}")
        try:
            await asyncio.sleep(input.step_seconds)  # the work; a cancel arrives at an await as CancelledError
        except asyncio.CancelledError:
            ctx.log.info("cancelled at step %d of %d", step + 1, input.steps)
            raise  # let it through: the attempt must end as cancelled, not as a result or another error
        position += rng.gauss(0, 1)
        low, high = min(low, position), max(high, position)
    await ctx.progress(100, f"{input.steps} steps done")
    result = SimulationResult(steps=input.steps, seed=input.seed, final=position, low=low, high=high)
    return result.model_dump()


class ReportInput(BaseModel):
    simulation_id: str = Field(min_length=1, max_length=128, description="The job id of a `simulate` job.")
    format: Literal["csv", "markdown"] = "csv"


class SimulationNotFinishedError(Exception):
    """Raised by ``report`` while its simulation is still queued or running: retried, with backoff."""


@job_type(
    name="report",
    description="Writes the summary of a succeeded `simulate` job as CSV or Markdown.",
    timeout_seconds=60,
    max_attempts=5,
)
def report(input: ReportInput, ctx: JobContext) -> dict[str, str]:
    """A plain ``def``: it runs in the worker's thread pool, so the blocking client is fine here.

    Any exception is retried by the job with backoff (the API unreachable, the simulation not finished yet);
    ``UnrecoverableError`` fails the job at once, for input that no retry can fix.
    """
    with Client(API_URL, api_key=API_KEY) as jobs:  # the API the app submits to: the worker needs no other store
        try:
            simulation = jobs.get(input.simulation_id)
        except NotFoundError:
            raise UnrecoverableError(f"no simulation {input.simulation_id}") from None
    if simulation.type != "simulate":
        raise UnrecoverableError(f"{input.simulation_id} is a {simulation.type} job, not a simulation")
    if not simulation.finished:
        ctx.log.info("simulation %s is %s; attempt %d retries later", simulation.job_id, simulation.status, ctx.attempt)
        raise SimulationNotFinishedError(f"simulation {input.simulation_id} is {simulation.status}")
    if simulation.status != "succeeded":
        raise UnrecoverableError(f"simulation {input.simulation_id} ended {simulation.status}: nothing to report")
    result = SimulationResult.model_validate(simulation.result)
    fields = ("simulation", "steps", "seed", "final", "low", "high")
    values = (simulation.job_id, result.steps, result.seed, result.final, result.low, result.high)
    if input.format == "csv":
        content = ",".join(fields) + "\n" + ",".join(str(value) for value in values) + "\n"
    else:
        content = "\n".join(f"- **{field}**: {value}" for field, value in zip(fields, values, strict=True)) + "\n"
    return {"simulation_id": simulation.job_id, "format": input.format, "content": content}
