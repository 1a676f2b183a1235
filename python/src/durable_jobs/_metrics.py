"""The Temporal SDK's metrics of a worker (activity slots used and available, polls, latencies) in Prometheus form,
on ``WORKER_METRICS_HOST`` (default 127.0.0.1) and ``WORKER_METRICS_PORT`` when that is set."""

from __future__ import annotations

import os
from collections.abc import Mapping

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


def metrics_runtime(env: Mapping[str, str] = os.environ) -> Runtime | None:
    """A runtime exporting the SDK's metrics when ``WORKER_METRICS_PORT`` asks for it; None otherwise (the default
    runtime). Raises ValueError for a port that is not one."""
    port = env.get("WORKER_METRICS_PORT")
    if not port:
        return None
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"WORKER_METRICS_PORT must be a port number from 1 to 65535, not {port!r}")
    host = env.get("WORKER_METRICS_HOST") or "127.0.0.1"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"{host}:{port}")))
