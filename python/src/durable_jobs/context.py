"""What a job handler is given for one attempt: :class:`JobContext`."""

from __future__ import annotations

import asyncio
import logging
import math
import sys
import threading
import traceback
from collections.abc import Callable, Generator, MutableMapping
from typing import TYPE_CHECKING, Any

from ._attempt_logs import AttemptLogBuffer, level_of
from .models import Progress


class ProgressReported:
    """What :meth:`JobContext.progress` returns: awaiting it yields to the event loop once (an async handler's
    natural point to be cancelled); a thread handler calls ``progress`` and leaves it."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return asyncio.sleep(0).__await__()


if TYPE_CHECKING:
    _LoggerAdapter = logging.LoggerAdapter[logging.Logger]
else:  # LoggerAdapter is subscriptable at run time from Python 3.11 only
    _LoggerAdapter = logging.LoggerAdapter


def _log_message(msg: Any, args: tuple[Any, ...], exc_info: Any) -> str:
    """The line as the job's logs keep it: the message with its arguments, and the traceback of ``exc_info``."""
    try:
        text = str(msg) % args if args else str(msg)
    except (TypeError, ValueError):
        text = " ".join(str(part) for part in (msg, *args))
    if exc_info:
        if isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        elif not isinstance(exc_info, tuple):
            exc_info = sys.exc_info()
        if exc_info[0] is not None:
            text += "\n" + "".join(traceback.format_exception(*exc_info)).rstrip()
    return text


class _JobLogAdapter(_LoggerAdapter):
    """Every line names its job and attempt, in the message (for plain formatters) and as ``extra`` fields; and is
    kept, at every level, in the job's logs."""

    def __init__(self, logger: logging.Logger, extra: dict[str, Any], kept: AttemptLogBuffer) -> None:
        super().__init__(logger, extra)
        self._kept = kept

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        self._kept.add(level_of(level), _log_message(msg, args, kwargs.get("exc_info")))
        super().log(level, msg, *args, **kwargs)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        extra = dict(self.extra or {})
        kwargs["extra"] = {**extra, **kwargs.get("extra", {})}
        return f"[job {extra['job_id']} attempt {extra['attempt']}] {msg}", kwargs


class JobContext:
    """One attempt of one job, as its handler sees it.

    ``cancelled`` is set when the job is cancelled, the attempt times out or the worker shuts down past its grace
    time: a plain ``def`` handler (run in a thread) checks it or waits on it and returns promptly. An ``async def``
    handler sees the same as :class:`asyncio.CancelledError` at its next ``await``.
    """

    def __init__(
        self,
        *,
        job_id: str,
        tenant: str,
        attempt: int,
        report: Callable[[Progress], None],
        logger: logging.Logger,
        child_results: list[Any] | None = None,
        logs: AttemptLogBuffer | None = None,
    ) -> None:
        self.job_id = job_id
        #: The tenant that submitted the job (``default`` without API keys).
        self.tenant = tenant
        #: 1 for the first attempt.
        self.attempt = attempt
        #: A parent job's children's ends, by index (``None`` for a job without children).
        self.child_results = child_results
        #: The attempt's kept log lines (``GET /api/v1/jobs/{job_id}/logs``), which ``log`` writes to.
        self.logs = logs if logs is not None else AttemptLogBuffer()
        #: Every line is kept in the job's logs and written to the worker's logger, naming the job and attempt.
        self.log: logging.LoggerAdapter[logging.Logger] = _JobLogAdapter(
            logger, {"job_id": job_id, "tenant": tenant, "attempt": attempt}, self.logs
        )
        self.cancelled = threading.Event()
        self._report = report
        self._last: Progress | None = None
        self._lock = threading.Lock()

    @property
    def last_progress(self) -> Progress | None:
        """The last progress reported, which the attempt returns with its result."""
        with self._lock:
            return self._last

    def progress(self, percent: float | None, message: str | None = None) -> ProgressReported:
        """Reports progress (``percent`` 0-100, or ``None`` for unknown): it shows in polls within about a second.

        ``await ctx.progress(…)`` in an ``async def`` handler; ``ctx.progress(…)`` from a thread handler.
        """
        if percent is not None and not (math.isfinite(percent) and 0 <= percent <= 100):
            raise ValueError(f"progress must be a percentage from 0 to 100 or None, not {percent!r}")
        if message is not None and not isinstance(message, str):
            raise TypeError(f"a progress message must be a str or None, not {type(message).__name__}")
        reported = Progress(percent=percent, message=message)
        with self._lock:
            self._last = reported
        self._report(reported)
        return ProgressReported()
