// The worker's job metrics: jobs finished by type, priority and status with their durations, counted by the worker
// that runs each job's workflow when the job ends (its sink), and callback deliveries by outcome. Served in Prometheus
// form on WORKER_JOB_METRICS_PORT; the API's /metrics has the gauges read from Temporal (backlog, running, workers).
import { createServer, type Server } from 'node:http';
import type { InjectedSinks } from '@temporalio/worker';
import { Counter, Histogram, Registry } from 'prom-client';
import type { FinishedJob, JobMetricsSinks } from '../workflows/job-metrics.js';

/** From a second to a day: jobs run from sub-second sleeps to day-long commands. */
const durationBuckets = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600];

const seconds = (from: string, to: string): number => Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);

export class JobMetrics {
  readonly registry = new Registry();
  readonly finished = new Counter({
    name: 'durable_jobs_jobs_finished_total',
    help: 'Jobs finished, by type, priority and status (succeeded, failed, timed_out, cancelled); each job once, by the worker running its workflow',
    labelNames: ['type', 'priority', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'durable_jobs_job_duration_seconds',
    help: 'Submit to finish of finished jobs (retries and backoff included), by type, priority and status',
    labelNames: ['type', 'priority', 'status'] as const,
    buckets: durationBuckets,
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: 'durable_jobs_job_queue_wait_seconds',
    help: "Wait of finished jobs before their first attempt started, from submit (or a delayed job's runAt), by type and priority",
    labelNames: ['type', 'priority'] as const,
    buckets: durationBuckets,
    registers: [this.registry],
  });
  readonly callbackDeliveries = new Counter({
    name: 'durable_jobs_callback_deliveries_total',
    help: 'Callback delivery attempts, by outcome: delivered, or failed (retried until its attempts run out)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  record(job: FinishedJob): void {
    const { type, priority, status } = job;
    this.finished.inc({ type, priority, status });
    if (job.finishedAt) this.duration.observe({ type, priority, status }, seconds(job.createdAt, job.finishedAt));
    if (job.startedAt) this.queueWait.observe({ type, priority }, seconds(job.runAt ?? job.createdAt, job.startedAt));
  }

  /** For the workflows' worker: the job workflow reports each end here. */
  sinks(): InjectedSinks<JobMetricsSinks> {
    return { jobMetrics: { finished: { fn: (_info, job) => this.record(job) } } };
  }

  /** Counts each attempt of `deliver` by its outcome. */
  countDeliveries<A extends unknown[]>(deliver: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
    return async (...args) => {
      try {
        await deliver(...args);
        this.callbackDeliveries.inc({ outcome: 'delivered' });
      } catch (err) {
        this.callbackDeliveries.inc({ outcome: 'failed' });
        throw err;
      }
    };
  }

  /** Serves GET /metrics on `port` until closed. */
  async serve(port: number, host: string): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    server.listen(port, host);
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
    return server;
  }
}
