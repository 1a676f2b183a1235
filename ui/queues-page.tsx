// The queues page: per priority, the shared task queue's backlog and pollers and the tenant's queued and running
// jobs, with a small chart of the last two minutes; per job type and priority, its live workers and why its jobs
// wait. GET /api/v1/queues every 2 s.
import { useEffect, useRef } from 'preact/hooks';
import { client, dataOf } from './api.js';
import type { components } from '../src/client/index.js';
import { LiveHead, NumberHead, Pending, useDocumentTitle } from './components.js';
import { useLive } from './live.js';
import './pages.css';

type QueueList = components['schemas']['QueueList'];
type Priority = QueueList['queues'][number]['priority'];

const refreshMs = 2000;
/** Two minutes of reads. */
const keptSamples = 60;

interface Sample {
  readonly queued: number;
  readonly running: number;
}

const shown = (value: number | null) => (value === null ? '–' : String(value));

export function QueuesPage({ onUnauthorized }: { readonly onUnauthorized: () => void }) {
  const live = useLive('queues', async () => dataOf(await client.api.GET('/api/v1/queues')), refreshMs, onUnauthorized);
  const history = useRef(new Map<Priority, Sample[]>());
  const answer = live.data;
  useDocumentTitle('Queues');
  useEffect(() => {
    for (const queue of answer?.queues ?? []) {
      const samples = history.current.get(queue.priority) ?? [];
      samples.push({ queued: queue.queuedJobs, running: queue.runningJobs });
      history.current.set(queue.priority, samples.slice(-keptSamples));
    }
  }, [answer]);

  return (
    <section>
      <LiveHead title="Queues" live={live} refreshMs={refreshMs} />
      {answer === undefined ? (
        <Pending problem={live.problem} again={live.again} />
      ) : (
        <>
          <div class="queue-cards">
            {answer.queues.map((queue) => (
              <section class="panel queue-card" key={queue.priority} data-priority={queue.priority}>
                <h2>
                  <span class={`priority priority-${queue.priority}`}>{queue.priority}</span>
                </h2>
                <dl class="figures">
                  <div>
                    <dt>Queued</dt>
                    <dd data-testid={`queued-${queue.priority}`}>{queue.queuedJobs}</dd>
                  </div>
                  <div>
                    <dt>Running</dt>
                    <dd data-testid={`running-${queue.priority}`}>{queue.runningJobs}</dd>
                  </div>
                  <div>
                    <dt>Backlog</dt>
                    <dd title="attempts waiting in the task queue, as Temporal estimates it">{shown(queue.backlog)}</dd>
                  </div>
                  <div>
                    <dt>Pollers</dt>
                    <dd title="workers polling the queue recently">{shown(queue.pollers)}</dd>
                  </div>
                </dl>
                <Sparkline samples={history.current.get(queue.priority) ?? []} priority={queue.priority} />
                <p class="sparkline-legend muted">
                  <span class="legend-queued">queued</span> <span class="legend-running">running</span>, the last 2 min
                </p>
              </section>
            ))}
          </div>
          <section class="panel">
            <h2>By job type</h2>
            {answer.types.length === 0 ? (
              <p class="muted">No job type has a queue of its own yet.</p>
            ) : (
              <div class="grid-scroll">
                <table class="grid">
                  <thead>
                    <tr>
                      <th scope="col">Type</th>
                      <th scope="col">Priority</th>
                      <NumberHead>Workers</NumberHead>
                      <NumberHead>Queued</NumberHead>
                      <NumberHead>Backlog</NumberHead>
                      <th scope="col">Task queue</th>
                    </tr>
                  </thead>
                  <tbody>
                    {answer.types.map((row) => (
                      <tr key={`${row.type}:${row.priority}`} data-type={row.type} data-priority={row.priority}>
                        <td>{row.type}</td>
                        <td>
                          <span class={`priority priority-${row.priority}`}>{row.priority}</span>
                        </td>
                        <td class="number">{row.workers}</td>
                        <td class="number">{row.queuedJobs}</td>
                        <td class="number">{shown(row.backlog)}</td>
                        <td>
                          <code>{row.taskQueue}</code>
                          {row.waiting && <p class="waiting">{row.waiting}</p>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </section>
  );
}

/** Queued (dashed) and running (solid) jobs of one priority over the last reads, scaled to the largest figure. */
function Sparkline({ samples, priority }: { readonly samples: readonly Sample[]; readonly priority: Priority }) {
  const width = 240;
  const height = 48;
  const top = Math.max(1, ...samples.map((sample) => Math.max(sample.queued, sample.running)));
  const line = (value: (sample: Sample) => number) =>
    samples
      .map((sample, index) => {
        const x = (index / (keptSamples - 1)) * width;
        const y = height - 2 - (value(sample) / top) * (height - 4);
        return `${index === 0 ? 'M' : 'L'}${x.toFixed(1)},${y.toFixed(1)}`;
      })
      .join(' ');
  return (
    <svg
      class="sparkline"
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`${priority}: queued and running jobs over the last ${Math.round((samples.length * refreshMs) / 1000)} s, at most ${top}`}
    >
      <path class="sparkline-queued" d={line((sample) => sample.queued)} />
      <path class="sparkline-running" d={line((sample) => sample.running)} />
    </svg>
  );
}
