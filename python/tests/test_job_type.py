"""Declarations from pydantic models: what @job_type sends the registry, and what it refuses at import."""

from __future__ import annotations

from typing import Any, cast

import pytest
from pydantic import BaseModel, Field

from durable_jobs import DeclaredJobType, JobContext, JobTypeDefinitionError, job_type
from durable_jobs.job_type import ResultInvalidError
from durable_jobs.worker import WorkerOptionsInvalidError, _checked


class Simulation(BaseModel):
    steps: int = Field(ge=1, description="how many steps")
    seed: int = 0


class Report(BaseModel):
    rows: int


class Bulky(BaseModel):
    rows: int = Field(description="x" * 60 * 1024)


@job_type(name="simulate", description="Runs a simulation.", timeout_seconds=600, max_attempts=5)
async def simulate(input: Simulation, ctx: JobContext) -> dict[str, Any]:
    return {"steps": input.steps}


@job_type(name="report", heartbeat_timeout_seconds=5, initial_interval_seconds=0.5, backoff_coefficient=3)
def report(input: Simulation, ctx: JobContext) -> Report:
    """Writes a report.

    Longer text.
    """
    return Report(rows=input.steps)


def test_the_input_schema_is_the_models_with_draft_2020_12_set() -> None:
    schema = simulate.declaration["inputSchema"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["required"] == ["steps"]
    assert schema["properties"]["steps"] == {
        "description": "how many steps",
        "minimum": 1,
        "title": "Steps",
        "type": "integer",
    }
    assert simulate.declaration["resultSchema"] is None, "a dict result declares no schema"


def test_defaults_are_complete_with_the_protocols_for_what_is_left_out() -> None:
    assert simulate.declaration["name"] == "simulate"
    assert simulate.declaration["description"] == "Runs a simulation."
    assert simulate.declaration["defaults"] == {
        "timeoutSeconds": 600,
        "heartbeatTimeoutSeconds": 30,
        "retry": {"maxAttempts": 5, "initialIntervalSeconds": 1, "backoffCoefficient": 2, "maximumIntervalSeconds": 60},
    }
    assert report.declaration["defaults"] == {
        "timeoutSeconds": 3600,
        "heartbeatTimeoutSeconds": 5,
        "retry": {
            "maxAttempts": 3,
            "initialIntervalSeconds": 0.5,
            "backoffCoefficient": 3,
            "maximumIntervalSeconds": 60,
        },
    }


def test_a_returned_model_is_the_result_schema_and_the_docstring_the_description() -> None:
    assert report.declaration["description"] == "Writes a report.\n\nLonger text."
    result_schema = report.declaration["resultSchema"]
    assert result_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert result_schema["required"] == ["rows"]
    assert report.result_model is Report


def test_async_and_plain_handlers_are_told_apart_and_stay_callable() -> None:
    assert isinstance(simulate, DeclaredJobType)
    assert simulate.is_async
    assert not report.is_async
    assert report(Simulation(steps=2), None) == Report(rows=2)  # type: ignore[arg-type]


def test_results_become_json_and_are_checked_against_a_declared_model() -> None:
    assert report.dump_result(Report(rows=3)) == {"rows": 3}
    assert report.dump_result({"rows": 4}) == {"rows": 4}
    with pytest.raises(ResultInvalidError):
        report.dump_result({"rows": "many"})
    assert simulate.dump_result({"a": [1, 2.5, None, "x"]}) == {"a": [1, 2.5, None, "x"]}
    assert simulate.dump_result(None) is None
    with pytest.raises(ResultInvalidError, match="not JSON"):
        simulate.dump_result({"a": object()})
    with pytest.raises(ResultInvalidError, match="not JSON"):
        simulate.dump_result(float("nan"))


def test_the_input_is_parsed_with_the_model() -> None:
    assert simulate.parse_input({"steps": 3}) == Simulation(steps=3, seed=0)


@pytest.mark.parametrize("name", ["Simulate", "9lives", "a:b", "x" * 65, ""])
def test_names_the_registry_would_refuse_are_refused(name: str) -> None:
    with pytest.raises(JobTypeDefinitionError, match="must be 1-64 characters"):

        @job_type(name=name)
        async def handler(input: Simulation, ctx: JobContext) -> None: ...


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout_seconds": 0}, "timeout_seconds must be from 1 to 604800"),
        ({"heartbeat_timeout_seconds": 1.5}, "heartbeat_timeout_seconds must be a whole number"),
        ({"max_attempts": 101}, "maxAttempts must be from 1 to 100"),
        ({"backoff_coefficient": 0.5}, "backoffCoefficient must be from 1 to 100"),
        ({"description": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_defaults_out_of_range_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(JobTypeDefinitionError, match=message):
        job_type(name="bad", **options)(simulate.handler)


def test_a_handler_without_a_model_is_refused() -> None:
    async def untyped(input: dict[str, Any], ctx: JobContext) -> None: ...

    async def one(input: Simulation) -> None: ...

    with pytest.raises(JobTypeDefinitionError, match="must be annotated with a pydantic model"):
        job_type(name="untyped")(cast(Any, untyped))
    with pytest.raises(JobTypeDefinitionError, match="two parameters"):
        job_type(name="one")(cast(Any, one))


def test_the_name_defaults_to_the_functions() -> None:
    @job_type
    async def nightly_rollup(input: Simulation, ctx: JobContext) -> None: ...

    assert nightly_rollup.name == "nightly_rollup"


def test_declarations_past_what_the_registry_holds_fail_the_worker_at_start() -> None:
    # 100 types of 60 KiB schemas, each under 64 KiB: 6 MB, which Temporal refused in a way that held the registry up.
    def bulky(index: int) -> DeclaredJobType[Bulky, None]:
        @job_type(name=f"bulky-{index}")
        def handler(input: Bulky, ctx: JobContext) -> None:
            return None

        return handler

    with pytest.raises(WorkerOptionsInvalidError, match=r"at most 1024 KiB .*declare fewer types or smaller schemas"):
        _checked([bulky(index) for index in range(100)], "jobs", {"normal": 1})
