"""The ``durable-jobs worker`` command line: queues, module paths, and one-line errors with exit status 2."""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import pytest

from durable_jobs import cli

JOBS = textwrap.dedent(
    """
    from pydantic import BaseModel
    from durable_jobs import JobContext, job_type

    class In(BaseModel):
        n: int

    @job_type(name="first")
    async def first(input: In, ctx: JobContext) -> None: ...

    @job_type(name="second")
    def second(input: In, ctx: JobContext) -> None: ...

    def helper() -> None: ...
    """
)


@pytest.fixture
def jobs_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "cli_jobs_fixture.py").write_text(JOBS)
    (tmp_path / "cli_empty_fixture.py").write_text("x = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "cli_jobs_fixture"


def test_queues_are_priority_colon_slots() -> None:
    assert cli.parse_queues("high:2,normal:8") == {"high": 2, "normal": 8}
    assert cli.parse_queues(" low:0 ") == {"low": 0}
    for bad in ["high", "urgent:2", "high:-1", "high:two", "high:1,high:2", ""]:
        with pytest.raises(argparse.ArgumentTypeError):
            cli.parse_queues(bad)


def test_an_attribute_names_one_job_type_and_a_module_all_of_its_own(jobs_module: str) -> None:
    assert [each.name for each in cli.load_job_types([f"{jobs_module}:second"])] == ["second"]
    assert [each.name for each in cli.load_job_types([jobs_module])] == ["first", "second"]
    assert [each.name for each in cli.load_job_types([jobs_module, f"{jobs_module}:first"])] == ["first", "second"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("no_such_module_here:x", "durable-jobs worker: error: no module named 'no_such_module_here'"),
        (
            "cli_jobs_fixture:missing",
            "durable-jobs worker: error: module 'cli_jobs_fixture' has no attribute 'missing'",
        ),
        ("cli_jobs_fixture:helper", "durable-jobs worker: error: cli_jobs_fixture:helper is not a job type"),
        ("cli_empty_fixture", "durable-jobs worker: error: module 'cli_empty_fixture' defines no job type"),
        ("cli_jobs_fixture:", "durable-jobs worker: error: 'cli_jobs_fixture:' is not module:attribute or module"),
    ],
)
def test_what_names_no_job_type_is_one_line_and_exit_2(
    jobs_module: str, spec: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["worker", spec], env={})
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(message), err
    assert err.count("\n") == 1, err


def test_bad_queues_and_keys_exit_2(jobs_module: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["worker", jobs_module, "--queues", "urgent:1"], env={})
    assert exited.value.code == 2
    assert "'urgent:1' is not priority:slots" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        cli.main(["worker", jobs_module], env={"PAYLOAD_ENCRYPTION_KEY": "short"})
    assert exited.value.code == 2
    assert "PAYLOAD_ENCRYPTION_KEY or PAYLOAD_DECRYPTION_KEYS: a payload encryption key must be" in (
        capsys.readouterr().err
    )
    with pytest.raises(SystemExit) as exited:
        cli.main(["worker", jobs_module, "--queues", "high:0"], env={})
    assert exited.value.code == 2
    assert "give at least one priority a slot" in capsys.readouterr().err


def test_settings_fall_back_to_the_services_env_names() -> None:
    env = {"TEMPORAL_ADDRESS": "temporal:7233", "TEMPORAL_NAMESPACE": "jobs-ns", "JOBS_TASK_QUEUE_PREFIX": "acme"}
    args = cli._parser(env).parse_args(["worker", "m:x"])
    assert (args.temporal_address, args.namespace, args.task_queue_prefix) == ("temporal:7233", "jobs-ns", "acme")
    assert args.queues == {"normal": 4}
    args = cli._parser(env).parse_args(["worker", "m:x", "--temporal-address", "elsewhere:1", "--queues", "high:2"])
    assert (args.temporal_address, args.queues) == ("elsewhere:1", {"high": 2})
    defaults = cli._parser({}).parse_args(["worker", "m"])
    assert (defaults.temporal_address, defaults.namespace, defaults.task_queue_prefix) == (
        "localhost:7233",
        "default",
        "jobs",
    )
