// OpenTelemetry traces of a process that talks to Temporal: the service's API and worker, and a handler worker.
// Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: the OpenTelemetry packages
// are then not even loaded, no interceptor is installed and nothing is sent.
import type { ClientInterceptors } from '@temporalio/client';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';

/** Thrown by startTracing when tracing is asked for and the OpenTelemetry packages it needs are not installed. */
export class TracingPackagesMissingError extends Error {
  override readonly name = 'TracingPackagesMissingError';
}

/** What a process adds to its Temporal client and workers to trace them. */
export interface Tracing {
  /** For a Client: a workflow start (and signal, query…) continues the active trace, passed on in its headers. */
  readonly clientInterceptors: ClientInterceptors;
  /** For Worker.create: each activity continues the trace its workflow passed; the workflows' spans leave through `sinks`. */
  readonly workerInterceptors: Pick<WorkerInterceptors, 'activity'>;
  /** For a worker running workflows: the sink the workflow interceptors built into the bundle export through. */
  readonly sinks: InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }>;
  /** Sends what is still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** The packages tracing loads, named for the error that says what to install. */
const tracingPackages = [
  '@opentelemetry/api',
  '@opentelemetry/resources',
  '@opentelemetry/sdk-trace-node',
  '@opentelemetry/exporter-trace-otlp-http',
  '@temporalio/interceptors-opentelemetry',
] as const;

/** Whether the environment asks for traces (the standard OpenTelemetry exporter variables). */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
}

async function loadPackages() {
  try {
    const [api, resources, node, exporter, interceptors] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@temporalio/interceptors-opentelemetry'),
    ]);
    return { api, resources, node, exporter, interceptors };
  } catch (err) {
    throw new TracingPackagesMissingError(
      `OTEL_EXPORTER_OTLP_ENDPOINT is set, but the packages that export traces are not installed: npm install ${tracingPackages.join(' ')} (${(err as Error).message})`,
      { cause: err },
    );
  }
}

/**
 * When the environment asks for traces: registers a global tracer provider exporting over OTLP/HTTP (the exporter
 * reads the standard OTEL_EXPORTER_OTLP_* variables; OTEL_SERVICE_NAME overrides `serviceName`), with W3C trace
 * context propagation, and returns the interceptors that carry a trace through Temporal. Otherwise undefined.
 */
export async function startTracing(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Tracing | undefined> {
  if (!tracingRequested(env)) return undefined;
  const { api, resources, node, exporter, interceptors } = await loadPackages();
  const resource = new resources.Resource({ 'service.name': env['OTEL_SERVICE_NAME'] || serviceName });
  const spanProcessor = new node.BatchSpanProcessor(new exporter.OTLPTraceExporter());
  const provider = new node.NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  const tracer = api.trace.getTracer('durable-jobs');
  return {
    clientInterceptors: { workflow: [new interceptors.OpenTelemetryWorkflowClientInterceptor({ tracer })] },
    workerInterceptors: {
      activity: [
        (ctx) => ({
          inbound: new interceptors.OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
          outbound: new interceptors.OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: interceptors.makeWorkflowExporter(spanProcessor, resource) },
    shutdown: () => provider.shutdown(),
  };
}
