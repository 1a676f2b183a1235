// The job metrics a Prometheus scrapes: the workers' finished jobs and durations (each job counted once, by the worker
// running its workflow) and the API's gauges read from Temporal (backlog, running, workers), against a real service.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import type { JobPriority } from '../src/contract/job.js';
import { TestService, uniqueJobId } from './support/service.js';

/** The value of one sample of a Prometheus text exposition, or undefined when it has none. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',');
    if (wanted.every((pair) => present.includes(pair))) return Number(match[3]);
  }
  return undefined;
}

/** The names a registry exports, as a scrape shows them: a histogram's as its _bucket, _sum and _count series. */
async function exportedNames(registry: Registry): Promise<string[]> {
  const metrics = await registry.getMetricsAsJSON();
  return metrics.flatMap(({ name, type }) =>
    String(type) === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
  );
}

/** The Temporal SDK's worker metrics the dashboard reads, as its Prometheus exporter names them (WORKER_METRICS_PORT). */
const temporalSdkMetrics = ['temporal_worker_task_slots_used', 'temporal_worker_task_slots_available'];

/** PromQL's functions and keywords the shipped expressions use: what is left of an expression's words are metrics. */
const promqlWords = new Set(['histogram_quantile', 'label_values']);

/** The metric names an expression reads: its words with an underscore, past label matchers, groupings and strings. */
function metricsOf(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without)\s*\([^)]*\)/g, '')
    .replace(/"[^"]*"/g, '');
  return [...bare.matchAll(/[a-z_:][a-z0-9_:]*/g)]
    .map(([word]) => word)
    .filter((word) => word.includes('_') && !promqlWords.has(word));
}

describe('Job metrics for alerting and autoscaling', function () {
  let service: TestService;
  const apiMetrics = async () => (await service.request<string>('GET', '/metrics')).body;

  before(async function () {
    this.timeout(60_000);
    // Two normal slots: a third attempt waits in the queue.
    service = await TestService.start({ workers: { high: 1, normal: 2 } });
  });

  after(async function () {
    await service?.teardown();
  });

  it('counts each finished job once by type, priority and status, with its durations', async function () {
    this.timeout(60_000);
    const submit = async (priority: JobPriority, input: Record<string, unknown>, retry?: object) => {
      const jobId = uniqueJobId('metrics');
      const { status } = await service.submit({ type: 'sleep', priority, input, jobId, ...(retry ? { retry } : {}) });
      assert.equal(status, 202);
      return jobId;
    };
    const succeeded = await Promise.all([
      submit('normal', { seconds: 0 }),
      submit('normal', { seconds: 0 }),
      submit('normal', { seconds: 0.2 }),
      submit('high', { seconds: 0 }),
    ]);
    const failed = await submit('normal', { seconds: 0, failure: 'non_retryable', failAttempts: 1 });
    const cancelled = await submit('normal', { seconds: 600 });
    await service.waitFor(cancelled, ['running']);
    assert.equal((await service.cancel(cancelled)).status, 202);
    await Promise.all([
      ...succeeded.map((jobId) => service.waitFor(jobId, ['succeeded'])),
      service.waitFor(failed, ['failed']),
      service.waitFor(cancelled, ['cancelled']),
    ]);

    // The workflow reports its end in the same workflow task that closes it: shortly after the job reads finished.
    const deadline = Date.now() + 10_000;
    let text = await service.jobMetrics.registry.metrics();
    while (sample(text, 'durable_jobs_jobs_finished_total', { status: 'cancelled' }) === undefined) {
      if (Date.now() > deadline) assert.fail(`no cancelled job counted:\n${text}`);
      await delay(100);
      text = await service.jobMetrics.registry.metrics();
    }
    const finished = (priority: JobPriority, status: string) =>
      sample(text, 'durable_jobs_jobs_finished_total', { type: 'sleep', priority, status });
    assert.equal(finished('normal', 'succeeded'), 3);
    assert.equal(finished('high', 'succeeded'), 1);
    assert.equal(finished('normal', 'failed'), 1);
    assert.equal(finished('normal', 'cancelled'), 1);
    assert.equal(finished('high', 'failed'), undefined);
    const durations = (priority: JobPriority, status: string) =>
      sample(text, 'durable_jobs_job_duration_seconds_count', { type: 'sleep', priority, status });
    assert.equal(durations('normal', 'succeeded'), 3);
    assert.equal(durations('normal', 'cancelled'), 1);
    // Every one of these jobs had an attempt started: each has its queue wait.
    assert.equal(sample(text, 'durable_jobs_job_queue_wait_seconds_count', { type: 'sleep', priority: 'normal' }), 5);
    assert.equal(sample(text, 'durable_jobs_job_queue_wait_seconds_count', { type: 'sleep', priority: 'high' }), 1);
    // The 0.2 s sleep took at least that from submit to finish.
    const sum = sample(text, 'durable_jobs_job_duration_seconds_sum', {
      type: 'sleep',
      priority: 'normal',
      status: 'succeeded',
    });
    assert.ok(sum !== undefined && sum >= 0.2, String(sum));

    const api = await apiMetrics();
    assert.equal(sample(api, 'durable_jobs_jobs_created_total', { type: 'sleep', priority: 'normal' }), 5);
    assert.equal(sample(api, 'durable_jobs_jobs_created_total', { type: 'sleep', priority: 'high' }), 1);
  });

  it('shows the backlog rise while the slots are full and fall when it drains, with the running jobs and workers', async function () {
    this.timeout(90_000);
    const gauge = async (name: string) =>
      sample(await apiMetrics(), name, { type: 'sleep', priority: 'normal' }) ?? Number.NaN;
    const until = async (what: string, read: () => Promise<number>, done: (value: number) => boolean) => {
      const deadline = Date.now() + 30_000;
      let last = await read();
      while (!done(last)) {
        if (Date.now() > deadline) assert.fail(`${what}: last ${last}`);
        await delay(250);
        last = await read();
      }
      return last;
    };
    assert.equal(await gauge('durable_jobs_workers'), 1);
    const jobIds = Array.from({ length: 6 }, () => uniqueJobId('backlog'));
    for (const jobId of jobIds) {
      const { status } = await service.submit({ type: 'sleep', input: { seconds: 600 }, jobId });
      assert.equal(status, 202);
    }
    // Two run (the slots), four wait in the queue.
    await until(
      'the running gauge',
      () => gauge('durable_jobs_running'),
      (value) => value === 2,
    );
    await until(
      'the backlog gauge',
      () => gauge('durable_jobs_backlog'),
      (value) => value >= 3,
    );
    for (const jobId of jobIds) assert.equal((await service.cancel(jobId)).status, 202);
    await until(
      'the backlog draining',
      () => gauge('durable_jobs_backlog'),
      (value) => value === 0,
    );
    await until(
      'the running gauge falling',
      () => gauge('durable_jobs_running'),
      (value) => value === 0,
    );
  });

  it('are what the shipped Grafana dashboard, alert rules and KEDA example read', async function () {
    this.timeout(30_000);
    const exported = new Set([
      ...(await exportedNames(service.app.metrics.registry)),
      ...(await exportedNames(service.jobMetrics.registry)),
      ...temporalSdkMetrics,
    ]);
    const dashboard = JSON.parse(await readFile('deploy/grafana/durable-jobs.json', 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
      templating: { list: { name: string; definition?: string }[] };
    };
    assert.ok(dashboard.panels.length >= 10);
    for (const panel of dashboard.panels) {
      const names = panel.targets.flatMap((target) => metricsOf(target.expr));
      assert.ok(names.length > 0, `panel "${panel.title}" reads no metric`);
      for (const name of names)
        assert.ok(exported.has(name), `panel "${panel.title}" reads ${name}, which nothing exports`);
    }
    for (const variable of dashboard.templating.list)
      for (const name of metricsOf(variable.definition ?? ''))
        assert.ok(exported.has(name), `variable ${variable.name}: ${name}`);

    for (const file of ['deploy/prometheus/alerts.yml', 'deploy/keda/scaledobject.yaml']) {
      const names = [...(await readFile(file, 'utf8')).matchAll(/\bdurable_jobs_[a-z_]+/g)].map(([name]) => name);
      assert.ok(names.length > 0, file);
      for (const name of names) assert.ok(exported.has(name), `${file} reads ${name}, which nothing exports`);
    }
  });

  it('ships alert rules that promtool check rules accepts', function () {
    // CI installs Debian's prometheus package for it (.ci/run); elsewhere, without promtool, this is skipped.
    if (spawnSync('promtool', ['--version']).error) this.skip();
    const checked = spawnSync('promtool', ['check', 'rules', 'deploy/prometheus/alerts.yml'], { encoding: 'utf8' });
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, /SUCCESS: 4 rules found/);
  });
});
