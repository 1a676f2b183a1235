// The trace a job records at its start: the id the job JSON shows, to open the job's trace in a tracing backend.
import { trace } from '@opentelemetry/api';

/**
 * The id of the active span's trace, when there is one: only while traces are exported (with no tracer provider
 * registered, there is never an active span, and this costs a lookup).
 */
export function activeTraceId(): string | null {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : null;
}

/** `request` with the active trace's id, when there is one. */
export function withTraceId<T extends object>(request: T): T & { readonly traceId?: string } {
  const traceId = activeTraceId();
  return traceId ? { ...request, traceId } : request;
}
