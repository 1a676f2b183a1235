"""Helpers of the tests."""

import itertools
import os
import time

_counter = itertools.count()


def unique_id(label: str) -> str:
    """A job or schedule id unique to this test run."""
    return f"py-{label}-{os.getpid()}-{int(time.time() * 1000):x}-{next(_counter)}"
