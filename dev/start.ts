// `npm start`: the Temporal dev server (unless TEMPORAL_ADDRESS is set), one worker and the API. It checks every port
// first, says "up" only once the API it started answers and the worker it started polls, stops everything when any
// part dies, and exits only once every part it started has exited; each part dies with it if it is killed (spawnTied).
import type { ChildProcess } from 'node:child_process';
import { tracingRequested } from '@durable-jobs/worker/tracing';
import { Connection } from '@temporalio/client';
import { Env, loadConfig, type Config } from '../src/config.js';
import type { JobPriority } from '../src/contract/job.js';
import { workflowVersion } from '../src/workflows/version.js';
import { buildSources, partArgs, workerMallocEnv } from './build.mjs';
import { buildDashboard } from './build-ui.js';
import { isRunning, stopChild } from './child-process.js';
import { listensOn, portProblems, portsOf } from './ports.mjs';
import { projectRoot } from './project-root.js';
import { spawnTied } from './spawn-tied.mjs';
import type { DevServerProcess } from './temporal/dev-server.js';
import { cursorKeyFor, payloadKeyFor, startLocalServer } from './temporal/local.js';
import { pollsItsQueues } from './worker-pollers.js';
import { buildWorkflowBundles } from './workflow-bundle.js';

/** What any Node.js process needs from the launcher's environment besides the service's own variables. */
const processBasics = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'TERM',
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'FORCE_COLOR',
  'NO_COLOR',
  'CI',
];
/** Secrets only the API reads: the worker (and so every command it runs) never holds them. */
const apiOnly = new Set(['API_KEYS', 'API_KEYS_FILE', 'JOBS_CURSOR_KEY']);

/** The environment a part is started with: the basics and the service's variables it reads, nothing else of the launcher's. */
function partEnv(part: 'api' | 'worker', temporalAddress: string): NodeJS.ProcessEnv {
  const names = [...processBasics, ...Object.keys(Env.shape)].filter((name) => part === 'api' || !apiOnly.has(name));
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    names.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])),
  );
  return { ...env, TEMPORAL_ADDRESS: temporalAddress };
}

let stopping = false;
/** Set when a part died by itself: the launcher then exits 1 whatever the others do. */
let failed = false;
let server: DevServerProcess | undefined;
const parts: { name: string; child: ChildProcess }[] = [];

/** How long the rest of a part's process group may take to go after the part itself exited. */
const groupExitMs = 5000;

/**
 * Runs a part compiled, as `npm run <part>` does (`entry`: its source file under src/), in a process group of its
 * own: a stop signal reaches it once, from here, not a second time from the terminal.
 */
function startPart(name: string, entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawnTied(process.execPath, partArgs(entry), {
    cwd: projectRoot,
    env,
    stdio: 'inherit',
    detached: true,
  });
  watch(name, child);
  parts.push({ name, child });
  return child;
}

/** When `child` exits before the launcher stops, the launcher stops the rest and exits 1. */
function watch(name: string, child: ChildProcess): void {
  child.once('exit', (code, signal) => {
    if (stopping) return;
    failed = true;
    console.error(`${name} exited (${signal ?? code}); stopping the rest`);
    void stopAll();
  });
}

/**
 * Stops the API and the worker (each lets its requests or running attempts finish within its grace time), then the
 * dev server they talk to, and exits once all of them exited: 0 when asked to stop and every part exited 0, else 1.
 * No SIGKILL after a while: the worker's grace time is what bounds it.
 */
async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  const results = await Promise.allSettled(parts.map(({ child }) => stopChild(child, { groupExitMs })));
  for (const result of results) if (result.status === 'rejected') console.error(String(result.reason));
  await server?.stop();
  const clean = parts.every(({ child }) => child.exitCode === 0) && results.every((r) => r.status === 'fulfilled');
  process.exit(failed || !clean ? 1 : 0);
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once `url` answers 200 and the process holding `port` is `child` (where /proc tells; else once it answers
 * while `child` runs), so another API on the same port never makes the launcher say "up".
 */
async function waitForApi(url: string, port: number, child: ChildProcess): Promise<void> {
  for (;;) {
    const ok = await fetch(url).then(
      (res) => res.ok,
      () => false,
    );
    if (ok && (listensOn(child.pid!, port) ?? true) && isRunning(child)) return;
    if (!isRunning(child)) throw new Error('the API exited before it answered');
    await delay(200);
  }
}

/** Resolves once Temporal at `address` lists `child` among the pollers of every queue it serves. */
async function waitForWorker(address: string, config: Config, child: ChildProcess): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const priorities = Object.keys(config.WORKER_QUEUES) as JobPriority[];
    const { TEMPORAL_NAMESPACE: namespace, JOBS_TASK_QUEUE_PREFIX: prefix } = config;
    while (!(await pollsItsQueues(connection.workflowService, namespace, prefix, priorities, child.pid!))) {
      if (!isRunning(child)) throw new Error('the worker exited before it polled');
      await delay(200);
    }
  } finally {
    await connection.close();
  }
}

async function run(): Promise<void> {
  const config = loadConfig();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAll());

  // Nothing starts while any port it needs is taken: the worker would attach to another Temporal server.
  const problems = await portProblems(
    portsOf(config, config.TEMPORAL_ADDRESS ? ['api', 'worker'] : ['temporal', 'api', 'worker']),
  );
  if (problems.length > 0) {
    for (const problem of problems) console.error(problem);
    process.exit(1);
  }
  // Only what changed since the last run is compiled and bundled; the worker loads the bundle npm start uses.
  await buildSources();
  await buildWorkflowBundles(config.WORKFLOW_BUNDLE_DIR, [{ encodeFailures: true, traced: tracingRequested() }]);
  await buildDashboard();
  let temporalAddress = config.TEMPORAL_ADDRESS;
  if (!temporalAddress) {
    console.log('starting the Temporal dev server…');
    server = await startLocalServer(config, { ownProcessGroup: true });
    watch('the Temporal dev server', server.process);
    temporalAddress = `localhost:${config.TEMPORAL_DEV_PORT}`;
  }
  // Both parts read the key from their environment: by default a local one, so payloads are stored encrypted.
  process.env['PAYLOAD_ENCRYPTION_KEY'] = await payloadKeyFor(config);
  process.env['JOBS_CURSOR_KEY'] = await cursorKeyFor(config);
  if (stopping) return;
  const worker = startPart('worker', 'src/worker/main.ts', {
    ...partEnv('worker', temporalAddress),
    ...workerMallocEnv,
  });
  // The API and the worker run this one tree: every worker has its workflow version (see JOBS_WORKFLOW_VERSION).
  const api = startPart('API', 'src/api/main.ts', {
    JOBS_WORKFLOW_VERSION: String(workflowVersion),
    ...partEnv('api', temporalAddress),
  });
  const apiHost = config.listenHost === '0.0.0.0' || config.listenHost === '::' ? 'localhost' : config.listenHost;
  await Promise.all([
    waitForApi(`http://${apiHost}:${config.PORT}/healthz`, config.PORT, api),
    waitForWorker(temporalAddress, config, worker),
  ]);
  if (stopping) return;
  console.log(
    [
      '',
      'durable-jobs is up:',
      `  API      http://${apiHost}:${config.PORT}/api/v1/jobs (listening on ${config.listenHost}${config.HOST ? '' : config.apiKeys.length === 0 ? ': open, so loopback only' : ': keys on, so every interface'}; HOST moves it)`,
      `  Jobs     http://${apiHost}:${config.PORT}/ui/ (the dashboard)`,
      `  Web UI   ${config.TEMPORAL_UI_URL}`,
      `  Temporal ${temporalAddress} (namespace ${config.TEMPORAL_NAMESPACE})`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

run().catch((err: unknown) => {
  if (stopping) return;
  console.error(err instanceof Error ? err.message : err);
  failed = true;
  void stopAll();
});
