// The API's span per request, when traces are exported: a caller's `traceparent` (W3C trace context) is continued, so
// its trace goes on through the request, the workflow start (the client's interceptor) and the job's attempts.
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context, Next } from 'koa';

/** Koa middleware: the request runs inside a server span whose parent is the caller's `traceparent`, if any. */
export function requestSpans() {
  const tracer = trace.getTracer('durable-jobs-api');
  return async (ctx: Context, next: Next): Promise<void> => {
    const parent = propagation.extract(context.active(), ctx.headers);
    const attributes = { 'http.request.method': ctx.method, 'url.path': ctx.path };
    await tracer.startActiveSpan(
      `${ctx.method} ${ctx.path}`,
      { kind: SpanKind.SERVER, attributes },
      parent,
      async (span) => {
        try {
          await next();
        } finally {
          const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute;
          if (route) span.updateName(`${ctx.method} ${route}`).setAttribute('http.route', route);
          span.setAttribute('http.response.status_code', ctx.status);
          if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        }
      },
    );
  };
}
