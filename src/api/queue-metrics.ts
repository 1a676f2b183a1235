// The API's gauges of the work waiting and running, read from Temporal at most every few seconds whatever the number
// of scrapes: per job type and priority, its task queue's backlog (DescribeTaskQueue's stats), its running jobs
// (a visibility count) and its live worker processes (the job type registry). Across tenants: these are the
// operator's figures, what an alert or an autoscaler (deploy/keda) reads.
import { Gauge, type Registry } from 'prom-client';
import { jobTypeTaskQueue } from '../contract/job-type-declaration.js';
import { JobPriority } from '../contract/job.js';
import { JobPriorityKey, JobStatusKey, JobTypeKey, visibilityLiteral } from '../workflows/search-attributes.js';
import { describeAttemptQueue, type QueuesDeps } from './queues.js';

interface Figure {
  readonly labels: { readonly type: string; readonly priority: JobPriority };
  readonly backlog: number | null;
  readonly running: number;
  readonly workers: number;
}

/** A scrape within this long of the last read answers from it. */
const defaultRefreshMs = 5000;

export class QueueGauges {
  private latest: { readonly at: number; readonly figures: Promise<Figure[]> } | undefined;

  constructor(
    private readonly deps: QueuesDeps,
    registry: Registry,
    private readonly refreshMs = defaultRefreshMs,
  ) {
    const gauge = (name: string, help: string, value: (figure: Figure) => number | null) => {
      const metric: Gauge<'type' | 'priority'> = new Gauge({
        name,
        help,
        labelNames: ['type', 'priority'] as const,
        registers: [registry],
        collect: async () => {
          const figures = await this.figures();
          metric.reset();
          for (const figure of figures) {
            const measured = value(figure);
            if (measured !== null) metric.set(figure.labels, measured);
          }
        },
      });
    };
    gauge(
      'durable_jobs_backlog',
      "Attempts waiting in a job type's task queue for a worker slot, by type and priority (Temporal's approximate backlog)",
      (figure) => figure.backlog,
    );
    gauge('durable_jobs_running', 'Jobs with an attempt running, by type and priority', (figure) => figure.running);
    gauge(
      'durable_jobs_workers',
      'Live worker processes serving the type at the priority (the job type registry)',
      (figure) => figure.workers,
    );
  }

  /** The figures of the last read, or of a new one once they are older than refreshMs; concurrent scrapes share it. */
  private figures(): Promise<Figure[]> {
    const now = Date.now();
    if (!this.latest || now - this.latest.at >= this.refreshMs) {
      const figures = this.read();
      this.latest = { at: now, figures };
      // A failed read is not kept: the next scrape tries again.
      figures.catch(() => {
        if (this.latest?.figures === figures) this.latest = undefined;
      });
    }
    return this.latest.figures;
  }

  private async read(): Promise<Figure[]> {
    const views = await this.deps.jobTypes.all();
    return Promise.all(
      views.flatMap(({ declaration: { name: type }, workers }) =>
        JobPriority.options.map(async (priority): Promise<Figure> => {
          // Quoted as a literal, though the registry checks type names: that check is not this query's.
          const running = `WorkflowType = 'jobWorkflow' AND ${JobTypeKey.name} = ${visibilityLiteral(type)} AND ${JobPriorityKey.name} = '${priority}' AND ${JobStatusKey.name} = 'running'`;
          const [described, count] = await Promise.all([
            describeAttemptQueue(this.deps, jobTypeTaskQueue(this.deps.taskQueuePrefix, type, priority)),
            this.deps.client.workflow.count(running),
          ]);
          return {
            labels: { type, priority },
            backlog: described.backlog,
            running: count.count,
            workers: workers[priority],
          };
        }),
      ),
    );
  }
}
