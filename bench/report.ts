// The run's results: a table on stdout, bench/results/latest.json (cluster.json for a cluster run) and the chart beside it.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ThroughputSide } from './options.js';
import type { BenchResults, PollReads, ScenarioFigures, SideRatios } from './results.js';
import { rounded } from './stats.js';

export const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** A figure the issue sets a bar for. */
interface Target {
  readonly atLeast?: number;
  readonly atMost?: number;
}

interface Row {
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  readonly target?: Target;
}

type RowsOf<K extends keyof ScenarioFigures> = (figures: ScenarioFigures[K]) => Row[];

const ms = (label: string, value: number, atMost?: number): Row => ({
  label,
  value,
  unit: 'ms',
  ...(atMost === undefined ? {} : { target: { atMost } }),
});
const mb = (label: string, value: number, atMost?: number): Row => ({
  label,
  value,
  unit: 'MB',
  ...(atMost === undefined ? {} : { target: { atMost } }),
});

/** A pace's reads: through the gateway, the direct reads, and the /healthz floor. */
function pollReadRows(prefix: string, f: PollReads, parts: readonly ('gateway' | 'direct' | 'floor')[]): Row[] {
  const rows: Record<(typeof parts)[number], Row[]> = {
    gateway: [
      ms('GET running p50', f.runningP50Ms),
      ms('GET running p99', f.runningP99Ms),
      ms('GET finished p50', f.finishedP50Ms),
      ms('GET finished p99', f.finishedP99Ms),
    ],
    direct: [
      ms('direct query running p50', f.directRunningP50Ms),
      ms('direct query running p99', f.directRunningP99Ms),
      ms('direct describe finished p50', f.directFinishedP50Ms),
      ms('direct describe finished p99', f.directFinishedP99Ms),
    ],
    floor: [ms('GET /healthz p50', f.httpFloorP50Ms), ms('GET /healthz p99', f.httpFloorP99Ms)],
  };
  return parts.flatMap((part) => rows[part].map((row) => ({ ...row, label: `${prefix}${row.label}` })));
}

const throughputSideNames: Record<ThroughputSide, string> = {
  gateway: 'gateway',
  bare: 'bare client',
  lean: 'lean reference',
};

/** The gateway's figures over another side's, with the bars the issue sets. */
function ratioRows(
  other: string,
  ratios: SideRatios,
  targets: { jobsPerSec?: number; temporalCpuPerJob?: number },
): Row[] {
  const rows: Row[] = [];
  if (ratios.jobsPerSec !== undefined)
    rows.push({
      label: `gateway / ${other}: throughput`,
      value: ratios.jobsPerSec,
      unit: '×',
      ...(targets.jobsPerSec === undefined ? {} : { target: { atLeast: targets.jobsPerSec } }),
    });
  if (ratios.temporalCpuPerJob !== undefined)
    rows.push({
      label: `gateway / ${other}: Temporal CPU per job`,
      value: ratios.temporalCpuPerJob,
      unit: '×',
      ...(targets.temporalCpuPerJob === undefined ? {} : { target: { atMost: targets.temporalCpuPerJob } }),
    });
  return rows;
}

/** The rows of each scenario, with the bars the issue sets for this 2-core machine. */
const rowsOf: { [K in keyof ScenarioFigures]: RowsOf<K> } = {
  scaling: (f) =>
    f.series.flatMap((series) => [
      ...series.points.flatMap((point) => [
        {
          label: `${series.load}, ${point.workerProcesses} worker process${point.workerProcesses === 1 ? '' : 'es'}`,
          value: point.jobsPerSec,
          unit: 'jobs/s',
        },
        { label: '  cores busy: workers', value: point.cores.worker, unit: 'cores' },
        { label: '  cores busy: temporal', value: point.cores.temporal, unit: 'cores' },
      ]),
      { label: `${series.load}, last / first`, value: series.speedup, unit: '×' },
    ]),
  throughput: (f) => [
    ...(['gateway', 'bare', 'lean'] as const).flatMap((side): Row[] => {
      const figures = f.sides[side];
      if (!figures) return [];
      const name = throughputSideNames[side];
      return [
        { label: `${name}: throughput`, value: figures.jobsPerSec, unit: 'jobs/s' },
        ...(['temporal', 'worker', 'api', 'client'] as const).map((process) => ({
          label: `${name}: ${process} CPU per job`,
          value: figures.cpuMsPerJob[process],
          unit: 'ms',
        })),
        { label: `${name}: history events per job`, value: figures.historyEventsPerJob, unit: 'events' },
        { label: `${name}: workflow tasks per job`, value: figures.workflowTasksPerJob, unit: 'tasks' },
        {
          label: `${name}: Temporal RPCs per job`,
          value: Math.round(Object.values(figures.rpcsPerJob).reduce((sum, n) => sum + n, 0) * 10) / 10,
          unit: 'RPCs',
        },
        {
          label: `${name}: visibility writes per job`,
          value: Math.round(Object.values(figures.visibilityWritesPerJob).reduce((sum, n) => sum + n, 0) * 10) / 10,
          unit: 'writes',
        },
      ];
    }),
    ...ratioRows('bare client', f.gatewayToBare, { jobsPerSec: 0.9 }),
    ...ratioRows('lean reference', f.gatewayToLean, { jobsPerSec: 0.9, temporalCpuPerJob: 1.3 }),
  ],
  latency: (f) => [
    ms('submit p50', f.submitP50Ms),
    ms('submit p99', f.submitP99Ms),
    ms('end to end p50', f.endToEndP50Ms, 100),
    ms('end to end p99', f.endToEndP99Ms),
    ms('bare client end to end p50', f.bareEndToEndP50Ms),
    ms('bare client end to end p99', f.bareEndToEndP99Ms),
    ms('lean reference end to end p50', f.leanEndToEndP50Ms),
    ms('lean reference end to end p99', f.leanEndToEndP99Ms),
    ms('end to end p50 over the lean reference’s', rounded(f.endToEndP50Ms - f.leanEndToEndP50Ms), 10),
  ],
  poll: (f) => [
    ms(`GET running p50, a GET per ${f.pollIntervalMs} ms`, f.runningP50Ms),
    ms(`GET running p99, a GET per ${f.pollIntervalMs} ms`, f.runningP99Ms, 25),
    ms(`GET finished p50, a GET per ${f.pollIntervalMs} ms`, f.finishedP50Ms),
    ms(`GET finished p99, a GET per ${f.pollIntervalMs} ms`, f.finishedP99Ms, 15),
    ...pollReadRows('', f, ['direct', 'floor']),
    ...pollReadRows('saturated: ', f.saturated, ['gateway', 'direct', 'floor']),
    ms('API CPU per GET /healthz', f.apiCpuMsPerGet.healthz),
    ms('API CPU per GET running', f.apiCpuMsPerGet.running),
    ms('API CPU per GET finished', f.apiCpuMsPerGet.finished),
  ],
  'many-finished': (f) => [
    { label: `GETs of ${f.jobs} finished jobs, ${f.clients} clients, no pause`, value: f.getsPerSec, unit: 'GET/s' },
    ms('GET finished p50', f.p50Ms),
    ms('GET finished p99', f.p99Ms, 50),
    ...(f.describesPerPoll === undefined
      ? []
      : [{ label: 'Temporal describes per GET', value: f.describesPerPoll, unit: 'calls' }]),
  ],
  backlog: (f) =>
    f.points.flatMap((p): Row[] => {
      const at = `at ${p.backlog.toLocaleString('en-US')} queued: `;
      return [
        { label: `${at}submit throughput`, value: p.submitPerSec, unit: 'jobs/s' },
        ms(`${at}GET queued job p99`, p.queuedPollP99Ms),
        ms(`${at}list ?status=queued p99`, p.listP99Ms),
        { label: `${at}queued`, value: p.countsByStatus['queued'] ?? 0, unit: 'jobs' },
        { label: `${at}running`, value: p.countsByStatus['running'] ?? 0, unit: 'jobs' },
        mb(`${at}API RSS`, p.apiRssMb),
        mb(`${at}worker RSS`, p.workerRssMb),
        ...(p.databaseBytesPerJob === undefined
          ? []
          : [{ label: `${at}database per queued job`, value: p.databaseBytesPerJob, unit: 'bytes' }]),
        { label: `${at}drain throughput`, value: p.drainPerSec, unit: 'jobs/s' },
      ];
    }),
  priority: (f) => [
    ms('high submit to finish p50', f.highP50Ms),
    ms('high submit to finish p95', f.highP95Ms, 2000),
    { label: 'low still queued after', value: f.lowStillQueued, unit: 'jobs' },
    { label: 'low running when high sent', value: f.lowRunningWhenHighSubmitted, unit: 'jobs' },
  ],
  'high-behind-low': (f) => [
    { label: 'low jobs queued when high sent', value: f.lowQueuedWhenHighSubmitted, unit: 'jobs' },
    ms(`high seen finished p50, a GET per ${f.pollIntervalMs} ms`, f.seenFinishedP50Ms),
    ms(`high seen finished p95, a GET per ${f.pollIntervalMs} ms`, f.seenFinishedP95Ms, 1000),
  ],
  pressure: (f) => [
    mb('API peak RSS under pressure', f.apiPeakRssMb, 200),
    mb('worker peak RSS under pressure', f.workerPeakRssMb, 350),
    ms('GET /healthz p99 under pressure', f.healthzP99Ms, 50),
    ms('  while the big jobs are submitted', f.healthzWhileSubmittingP99Ms),
    ms('  after', f.healthzAfterSubmitsP99Ms),
    ms('an idle process, asked the same way (floor)', f.idleProcessP99Ms),
    ms("API's event loop delay p99", f.apiEventLoopDelayP99Ms),
    ms("API's event loop delay max", f.apiEventLoopDelayMaxMs),
    { label: '5xx answers', value: f.serverErrors, unit: 'answers', target: { atMost: 0 } },
    { label: 'loaded jobs not succeeded', value: f.jobsNotSucceeded, unit: 'jobs', target: { atMost: 0 } },
    { label: "API's reads of runs' histories", value: f.apiHistoryReads, unit: 'reads' },
  ],
  memory: (f) => [
    mb('API peak RSS (VmHWM)', f.apiPeakRssMb, 150),
    mb('worker peak RSS (VmHWM)', f.workerPeakRssMb, 300),
    mb('API peak RSS, scenarios only', f.apiPeakRssDuringScenariosMb),
    mb('worker peak RSS, scenarios only', f.workerPeakRssDuringScenariosMb),
    mb('API RSS ready, before scenarios', f.apiRssAtStartMb),
    mb('worker RSS ready, before scenarios', f.workerRssAtStartMb),
  ],
};

function rowsFor<K extends keyof ScenarioFigures>(results: BenchResults, name: K): Row[] {
  const figures = results.scenarios[name];
  return figures ? rowsOf[name](figures) : [];
}

function verdict(row: Row): string {
  const { target } = row;
  if (!target) return '';
  const met =
    (target.atLeast === undefined || row.value >= target.atLeast) &&
    (target.atMost === undefined || row.value <= target.atMost);
  const bar = target.atLeast !== undefined ? `≥ ${target.atLeast}` : `≤ ${target.atMost}`;
  return `${bar.padEnd(8)} ${met ? 'met' : 'MISSED'}`;
}

function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  alignRight: ReadonlySet<number>,
): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (alignRight.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** The figures, then the cores each process kept busy per scenario (the client's share shows it is not the limit). */
export function formatTables(results: BenchResults): string {
  const figureRows: string[][] = [];
  const loadRows: string[][] = [];
  for (const name of Object.keys(rowsOf) as (keyof ScenarioFigures)[]) {
    for (const row of rowsFor(results, name))
      figureRows.push([name, row.label, String(row.value), row.unit, verdict(row)]);
    const load = results.scenarios[name]?.load;
    if (load) {
      const c = load.cores;
      const cells = [c.client, c.api, c.worker, c.temporal, load.otherProcessesCores].map((cores) => cores.toFixed(2));
      loadRows.push([name, load.wallSeconds.toFixed(1), ...cells, load.clientEventLoopLagP99Ms.toFixed(1)]);
    }
  }
  const machine = results.machine;
  const { apiProcesses, workerProcesses } = results.params.stack;
  const several = apiProcesses > 1 || workerProcesses > 1;
  return [
    `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, ${machine.os}, Node ${machine.node}, ${machine.temporal}; load average at start ${machine.loadAverageAtStart.join(' ')}`,
    `${apiProcesses} API process${apiProcesses === 1 ? '' : 'es'}, ${workerProcesses} worker process${workerProcesses === 1 ? '' : 'es'}${several ? ': memory is the largest process of each role' : ''}`,
    '',
    table(['scenario', 'figure', 'value', 'unit', 'target'], figureRows, new Set([2])),
    '',
    `cores busy per ${several ? 'role (the sum over its processes)' : 'process'} while each scenario ran (${machine.cpus} in all)`,
    table(
      ['scenario', 'wall s', 'client', 'api', 'worker', 'temporal', 'others', 'client loop lag p99 ms'],
      loadRows,
      new Set([1, 2, 3, 4, 5, 6, 7]),
    ),
  ].join('\n');
}

/** Writes each file beside its final name first, so a reader never sees half a file. */
async function writeAtomically(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, content);
  await rename(`${path}.tmp`, path);
}

/** Writes `<name>.json`, `<name>.svg` and each of `more` as `<name>-<key>.svg` in bench/results/. */
export async function writeResults(
  name: 'latest' | 'cluster',
  results: BenchResults,
  svg: string,
  more: Readonly<Record<string, string>> = {},
): Promise<string[]> {
  const files: [string, string][] = [
    [join(resultsDir, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`],
    [join(resultsDir, `${name}.svg`), svg],
    ...Object.entries(more).map(([key, content]): [string, string] => [
      join(resultsDir, `${name}-${key}.svg`),
      content,
    ]),
  ];
  for (const [path, content] of files) await writeAtomically(path, content);
  return files.map(([path]) => path);
}
