import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The API's Prometheus metrics, in a registry of its own so several apps can live in one process (tests). */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly jobsSubmitted = new Counter({
    // Was jobs_submitted_total (docs/operations.md, "Observability").
    name: 'durable_jobs_jobs_created_total',
    help: 'Jobs created by this API process, by type and priority (repeats of an existing jobId are not counted)',
    labelNames: ['type', 'priority'] as const,
    registers: [this.registry],
  });
  readonly jobPolls = new Counter({ name: 'job_polls_total', help: 'Polls of one job', registers: [this.registry] });
  readonly jobCancels = new Counter({
    name: 'job_cancels_total',
    help: 'Cancel requests accepted',
    registers: [this.registry],
  });
  readonly temporalReads = new Counter({
    name: 'durable_jobs_temporal_reads_total',
    help: 'Calls that read jobs from Temporal, by call: describe, query, history (a result or the start event), list',
    labelNames: ['call'] as const,
    registers: [this.registry],
  });
  /** How the event streams' unsent bytes are read at each scrape (the jobs routes set it). */
  eventStreamUnsent: () => number = () => 0;
  readonly eventStreamUnsentBytes: Gauge = new Gauge({
    name: 'durable_jobs_event_stream_unsent_bytes',
    help: 'Bytes written to event streams that their readers have not taken yet',
    registers: [this.registry],
    collect: () => this.eventStreamUnsentBytes.set(this.eventStreamUnsent()),
  });
  readonly eventStreamsClosedBehind = new Counter({
    name: 'durable_jobs_event_streams_closed_behind_total',
    help: 'Event streams closed because their readers stopped taking what was sent',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
