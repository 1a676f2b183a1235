// What the Temporal server counts of its own work, read from its Prometheus endpoint: the RPCs its frontend served
// by operation (from every client: the API, the workers, the bench), and the visibility records its history service
// wrote by kind. A round's figures are the difference between a read before and one after.
import { request } from 'node:http';

/** Counter values by key: `rpc <Operation>` and `visibility <TaskType>`, the namespace `default`'s only. */
export type ServerCounters = Readonly<Record<string, number>>;

function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const match of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[match[1]!] = match[2]!;
  return labels;
}

/** The counters of a Prometheus text exposition that the bench reports; every other line is passed over. */
export function parseServerCounters(exposition: string): ServerCounters {
  const counters: Record<string, number> = {};
  const add = (key: string, value: number): void => {
    counters[key] = (counters[key] ?? 0) + value;
  };
  for (const line of exposition.split('\n')) {
    const match = /^(service_requests|task_requests)\{([^}]*)\}\s+(\S+)$/.exec(line);
    if (!match) continue;
    const labels = labelsOf(match[2]!);
    const value = Number(match[3]);
    if (labels['namespace'] !== 'default' || !Number.isFinite(value)) continue;
    if (match[1] === 'service_requests' && labels['service_name'] === 'frontend')
      add(`rpc ${labels['operation']}`, value);
    if (match[1] === 'task_requests' && labels['task_type']?.startsWith('VisibilityTask'))
      add(`visibility ${labels['task_type'].slice('VisibilityTask'.length)}`, value);
  }
  return counters;
}

/** `after - before` per job, each key rounded to two digits; keys that did not move are left out. */
export function countersPerJob(before: ServerCounters, after: ServerCounters, jobs: number): Record<string, number> {
  const perJob: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const moved = value - (before[key] ?? 0);
    if (moved > 0) perJob[key] = Math.round((moved / jobs) * 100) / 100;
  }
  return perJob;
}

/** Reads the server's counters now. */
export function readServerCounters(metricsUrl: string): Promise<ServerCounters> {
  return new Promise((resolve, reject) => {
    request(metricsUrl, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve(parseServerCounters(Buffer.concat(chunks).toString('utf8'))));
    })
      .on('error', reject)
      .end();
  });
}

/** The port of `ports` that answers `GET /metrics` as a Prometheus endpoint, if one does. */
export async function findMetricsUrl(host: string, ports: readonly number[]): Promise<string | undefined> {
  for (const port of ports) {
    const url = `http://${host}:${port}/metrics`;
    const answers = await new Promise<boolean>((resolve) => {
      const req = request(url, { timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode === 200 && /text\/plain/.test(res.headers['content-type'] ?? ''));
      });
      req.on('error', () => resolve(false)).on('timeout', () => req.destroy());
      req.end();
    });
    if (answers) return url;
  }
  return undefined;
}
