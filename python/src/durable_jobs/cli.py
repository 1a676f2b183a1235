"""The ``durable-jobs`` command: ``durable-jobs worker myapp.jobs:simulate myapp.jobs --queues high:2,normal:8``."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from . import _protocol as protocol
from .job_type import DeclaredJobType
from .payload_codec import PayloadKeyInvalidError, parse_payload_key
from .worker import TemporalUnreachableError, WorkerOptionsInvalidError, exit_process, run_worker


class UsageError(Exception):
    """A mistake in the command line or what it names: printed on one line, exit status 2."""


def parse_queues(text: str) -> dict[str, int]:
    """``high:2,normal:8`` → ``{"high": 2, "normal": 8}``."""
    queues: dict[str, int] = {}
    for part in text.split(","):
        priority, colon, slots = part.strip().partition(":")
        if not colon or priority not in protocol.PRIORITIES or not slots.isdigit():
            raise argparse.ArgumentTypeError(
                f"{part.strip()!r} is not priority:slots with a priority of high, normal or low (e.g. high:2,normal:8)"
            )
        if priority in queues:
            raise argparse.ArgumentTypeError(f"{priority} is given twice")
        queues[priority] = int(slots)
    return queues


def load_job_types(specs: Sequence[str]) -> list[DeclaredJobType[Any, Any]]:
    """``module:attribute`` names one job type; ``module`` alone every job type defined at its top level."""
    found: dict[str, DeclaredJobType[Any, Any]] = {}
    for spec in specs:
        module_name, colon, attribute = spec.partition(":")
        if not module_name or (colon and not attribute):
            raise UsageError(f"{spec!r} is not module:attribute or module (e.g. myapp.jobs:simulate)")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name and module_name.startswith(err.name):
                raise UsageError(f"no module named {err.name!r} (from {spec!r}; run from where it imports)") from err
            raise UsageError(f"importing {module_name!r} failed: {err}") from err
        if colon:
            if not hasattr(module, attribute):
                raise UsageError(f"module {module_name!r} has no attribute {attribute!r}")
            value = getattr(module, attribute)
            if not isinstance(value, DeclaredJobType):
                raise UsageError(f"{spec} is not a job type (decorate it with @job_type)")
            types = [value]
        else:
            types = [value for value in vars(module).values() if isinstance(value, DeclaredJobType)]
            if not types:
                raise UsageError(f"module {module_name!r} defines no job type (@job_type)")
        for each in types:
            if found.get(each.name, each) is not each:
                raise UsageError(f'two job types are named "{each.name}"')
            found[each.name] = each
    return list(found.values())


def _parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="durable-jobs", description="durable-jobs for Python.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    worker = commands.add_parser(
        "worker",
        help="serve job types (SIGTERM or SIGINT stops it gracefully)",
        description="Serves the named job types to durable-jobs until SIGTERM or SIGINT.",
    )
    worker.add_argument(
        "job_types",
        nargs="+",
        metavar="MODULE[:ATTRIBUTE]",
        help="a job type (myapp.jobs:simulate), or a module for every job type in it (myapp.jobs)",
    )
    worker.add_argument(
        "--queues",
        type=parse_queues,
        default={"normal": 4},
        help="attempts run at once per priority, shared by the job types (default normal:4)",
    )
    worker.add_argument(
        "--temporal-address",
        default=env.get("TEMPORAL_ADDRESS") or "localhost:7233",
        help="the Temporal frontend (env TEMPORAL_ADDRESS, default localhost:7233)",
    )
    worker.add_argument(
        "--namespace",
        default=env.get("TEMPORAL_NAMESPACE") or "default",
        help="the Temporal namespace (env TEMPORAL_NAMESPACE, default default)",
    )
    worker.add_argument(
        "--task-queue-prefix",
        default=env.get("JOBS_TASK_QUEUE_PREFIX") or "jobs",
        help="the service's task queue prefix (env JOBS_TASK_QUEUE_PREFIX, default jobs)",
    )
    worker.add_argument(
        "--shutdown-grace-seconds",
        type=float,
        default=10.0,
        help="how long running attempts may finish after a stop signal before they are cancelled (default 10)",
    )
    worker.add_argument(
        "--shutdown-force-seconds",
        type=float,
        default=5.0,
        help="how long cancelled attempts may take to end before they are abandoned and the worker exits with"
        " status 3 (default 5)",
    )
    worker.add_argument(
        "--lease-seconds",
        type=int,
        default=10,
        help="counted live this long after each renewal of its registration (default 10)",
    )
    worker.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="default INFO"
    )
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> NoReturn:
    """The console script's entry, which exits the process. The payload key comes from ``PAYLOAD_ENCRYPTION_KEY``
    only (never an argument, which every process on the machine could read), older ones from
    ``PAYLOAD_DECRYPTION_KEYS``."""
    env = os.environ if env is None else env
    parser = _parser(env)
    args = parser.parse_args(argv)

    def fail(message: str) -> NoReturn:
        print(f"durable-jobs {args.command}: error: {message}", file=sys.stderr)
        raise SystemExit(2)

    # As `rq worker` and `celery -A` do: the job modules import from where the command is run.
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        job_types = load_job_types(args.job_types)
    except UsageError as err:
        fail(str(err))
    key = env.get("PAYLOAD_ENCRYPTION_KEY") or None
    older = [part for part in (env.get("PAYLOAD_DECRYPTION_KEYS") or "").split(",") if part.strip()]
    try:
        for each in [key, *older] if key else older:
            parse_payload_key(each)
    except PayloadKeyInvalidError as err:
        fail(f"PAYLOAD_ENCRYPTION_KEY or PAYLOAD_DECRYPTION_KEYS: {err}")
    if older and not key:
        fail("PAYLOAD_DECRYPTION_KEYS needs PAYLOAD_ENCRYPTION_KEY, the key new payloads are written with")
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run_worker(
            job_types,
            temporal_address=args.temporal_address,
            namespace=args.namespace,
            task_queue_prefix=args.task_queue_prefix,
            queues=args.queues,
            payload_encryption_key=key,
            payload_decryption_keys=older,
            lease_seconds=args.lease_seconds,
            shutdown_grace_seconds=args.shutdown_grace_seconds,
            shutdown_force_seconds=args.shutdown_force_seconds,
        )
    except WorkerOptionsInvalidError as err:
        fail(str(err))
    except TemporalUnreachableError as err:
        print(f"durable-jobs {args.command}: {err}", file=sys.stderr)
        exit_process(1)
    except Exception:
        # A worker that failed: logged with its cause.
        logging.getLogger("durable_jobs.worker").exception("the worker stopped on an error")
        exit_process(1)
    exit_process(0)


if __name__ == "__main__":
    main()
