"""What an attempt keeps of its handler's log lines (``docs/worker-protocol.md``, "Logs"): every level through
``ctx.log``, formatted, bounded to the newest 1,000 lines and 256 KiB, with the dropped ones counted."""

from __future__ import annotations

import logging

from durable_jobs import JobContext
from durable_jobs import _protocol as protocol
from durable_jobs._attempt_logs import AttemptLogBuffer


def _context() -> JobContext:
    return JobContext(job_id="job-1", tenant="default", attempt=2, report=lambda _: None, logger=logging.getLogger("t"))


def test_ctx_log_keeps_every_level_formatted_with_its_traceback() -> None:
    ctx = _context()
    ctx.log.debug("step %d of %d", 1, 3)
    ctx.log.info("plain")
    ctx.log.warning("careful")
    try:
        raise ValueError("bad row")
    except ValueError:
        ctx.log.exception("could not read")
    ctx.log.critical("down")
    kept = ctx.logs.snapshot()
    assert kept["dropped"] == 0
    lines = kept["lines"]
    assert [(line["seq"], line["level"]) for line in lines] == [
        (1, "debug"),
        (2, "info"),
        (3, "warn"),
        (4, "error"),
        (5, "error"),
    ]
    assert lines[0]["message"] == "step 1 of 3"
    assert lines[3]["message"].startswith("could not read\nTraceback")
    assert "ValueError: bad row" in lines[3]["message"]
    assert lines[0]["time"].endswith("Z")


def test_a_flood_keeps_the_newest_lines_and_counts_the_rest() -> None:
    buffer = AttemptLogBuffer()
    for line in range(1, 5001):
        buffer.add("info", f"line {line}")
    kept = buffer.snapshot()
    assert kept["dropped"] == 4000
    assert len(kept["lines"]) == protocol.LOG_MAX_LINES
    assert (kept["lines"][0]["seq"], kept["lines"][0]["message"]) == (4001, "line 4001")
    assert kept["lines"][-1]["seq"] == 5000


def test_bytes_bound_the_lines_and_a_long_message_is_cut() -> None:
    buffer = AttemptLogBuffer()
    buffer.add("info", "é" * 10_000)
    cut = buffer.snapshot()["lines"][0]["message"]
    assert len(cut.encode()) <= protocol.LOG_MAX_MESSAGE_BYTES
    assert cut.endswith(f"(cut at {protocol.LOG_MAX_MESSAGE_BYTES} bytes)")
    for _ in range(100):
        buffer.add("warn", "x" * 8000)
    kept = buffer.snapshot()
    assert sum(len(line["message"].encode()) for line in kept["lines"]) <= protocol.LOG_MAX_BYTES
    assert kept["dropped"] + len(kept["lines"]) == 101
    assert kept["lines"][0]["seq"] == kept["dropped"] + 1
