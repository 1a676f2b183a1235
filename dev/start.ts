// `npm start`: the Temporal dev server (unless TEMPORAL_ADDRESS is set), one worker and the API.
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Env, loadConfig } from '../src/config.js';
import { buildSources, partArgs } from './build.mjs';
import { buildDashboard } from './build-ui.js';
import { stopChild } from './child-process.js';
import { projectRoot } from './project-root.js';
import { payloadKeyFor, startLocalServer } from './temporal/local.js';
import { buildWorkflowBundles } from './workflow-bundle.js';

/** Runs a part compiled, as `npm run <part>` does (`entry`: its source file under src/). */
function startPart(name: string, entry: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, partArgs(entry), { cwd: projectRoot, env, stdio: 'inherit' });
  child.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping everything`);
      void stopAll(1);
    }
  });
  return child;
}

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
const apiOnly = new Set(['API_KEYS', 'API_KEYS_FILE']);

/** The environment a part is started with: the basics and the service's variables it reads, nothing else of the launcher's. */
function partEnv(part: 'api' | 'worker', temporalAddress: string): NodeJS.ProcessEnv {
  const names = [...processBasics, ...Object.keys(Env.shape)].filter((name) => part === 'api' || !apiOnly.has(name));
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    names.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]])),
  );
  return { ...env, TEMPORAL_ADDRESS: temporalAddress };
}

let stopping = false;
let server: TestWorkflowEnvironment | undefined;
const parts: ChildProcess[] = [];

async function stopAll(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // No SIGKILL after a while: the worker takes its grace time to let running attempts finish.
  await Promise.all(parts.map((child) => stopChild(child)));
  await server?.teardown();
  process.exit(exitCode);
}

async function waitForApi(url: string, child: ChildProcess): Promise<void> {
  while (child.exitCode === null) {
    if (
      await fetch(url).then(
        (res) => res.ok,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function run(): Promise<void> {
  const config = loadConfig();
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  // Only what changed since the last run is compiled and bundled; the worker loads the bundle npm start uses.
  await buildSources();
  await buildWorkflowBundles(config.WORKFLOW_BUNDLE_DIR, [{ encodeFailures: true }]);
  await buildDashboard();
  let temporalAddress = config.TEMPORAL_ADDRESS;
  if (!temporalAddress) {
    console.log('starting the Temporal dev server…');
    server = await startLocalServer(config);
    temporalAddress = `localhost:${config.TEMPORAL_DEV_PORT}`;
  }
  // Both parts read the key from their environment: by default a local one, so payloads are stored encrypted.
  process.env['PAYLOAD_ENCRYPTION_KEY'] = await payloadKeyFor(config);
  parts.push(startPart('worker', 'src/worker/main.ts', partEnv('worker', temporalAddress)));
  const api = startPart('API', 'src/api/main.ts', partEnv('api', temporalAddress));
  parts.push(api);
  const apiHost = config.listenHost === '0.0.0.0' || config.listenHost === '::' ? 'localhost' : config.listenHost;
  await waitForApi(`http://${apiHost}:${config.PORT}/healthz`, api);
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
  console.error(err instanceof Error ? err.message : err);
  void stopAll(1);
});
