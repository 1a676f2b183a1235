"""OpenTelemetry traces of a worker: on only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set. Otherwise nothing of OpenTelemetry is even imported, no interceptor is
installed and nothing is sent."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

from temporalio.client import Interceptor


def tracing_requested(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for traces (the standard OpenTelemetry exporter variables)."""
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def start_tracing(service_name: str) -> tuple[Sequence[Interceptor], Callable[[], None]]:
    """When the environment asks for traces: a global tracer provider exporting over OTLP/HTTP (the exporter reads
    the standard ``OTEL_EXPORTER_OTLP_*`` variables; ``OTEL_SERVICE_NAME`` overrides ``service_name``), and the
    Temporal SDK's tracing interceptor for the client (its workers inherit it), which continues the trace the job's
    workflow passes to each attempt. Returns the interceptors and what flushes and stops the exporter."""
    if not tracing_requested():
        return (), lambda: None
    # Imported only here: a worker that does not export traces does not load OpenTelemetry.
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from temporalio.contrib.opentelemetry import TracingInterceptor

    provider = TracerProvider(
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or service_name})
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    interceptor: Interceptor = TracingInterceptor(trace.get_tracer("durable-jobs"))
    return (interceptor,), provider.shutdown
