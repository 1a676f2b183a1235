"""The log lines of one attempt, kept for the job (``docs/worker-protocol.md``, "Logs"): the newest within the
protocol's bounds, sent with every heartbeat (the live tail) and with the attempt's completion or failure."""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any, Literal

from . import _protocol as protocol

LogLevel = Literal["debug", "info", "warn", "error"]


def level_of(levelno: int) -> LogLevel:
    """The protocol's level of a :mod:`logging` level."""
    if levelno >= logging.ERROR:
        return "error"
    if levelno >= logging.WARNING:
        return "warn"
    if levelno >= logging.INFO:
        return "info"
    return "debug"


def _cut(message: str) -> tuple[str, int]:
    encoded = message.encode("utf-8", "replace")
    if len(encoded) <= protocol.LOG_MAX_MESSAGE_BYTES:
        return message, len(encoded)
    head = encoded[: protocol.LOG_MAX_MESSAGE_BYTES - 64].decode("utf-8", "ignore")
    cut = f"{head} … (cut at {protocol.LOG_MAX_MESSAGE_BYTES} bytes)"
    return cut, len(cut.encode("utf-8"))


class AttemptLogBuffer:
    """The newest lines of an attempt within its bounds; the older ones are counted as dropped. Thread-safe: a
    thread handler logs from the worker's thread pool while the event loop heartbeats."""

    def __init__(self) -> None:
        self._lines: deque[tuple[dict[str, Any], int]] = deque()
        self._bytes = 0
        self._next_seq = 1
        self._lock = threading.Lock()

    def add(self, level: LogLevel, message: str) -> None:
        text, size = _cut(message)
        time = protocol.now_iso()
        with self._lock:
            self._lines.append(({"seq": self._next_seq, "time": time, "level": level, "message": text}, size))
            self._next_seq += 1
            self._bytes += size
            while len(self._lines) > protocol.LOG_MAX_LINES or self._bytes > protocol.LOG_MAX_BYTES:
                self._bytes -= self._lines.popleft()[1]

    def snapshot(self) -> dict[str, Any]:
        """The kept lines as the protocol carries them: ``{"lines": [...], "dropped": n}``."""
        with self._lock:
            lines = [line for line, _ in self._lines]
            dropped = lines[0]["seq"] - 1 if lines else self._next_seq - 1
        return {"lines": lines, "dropped": dropped}
