// Entry of every npm script: installs dependencies when they are missing or stale, then runs the part asked for.
// Plain Node.js on purpose: it must work on a fresh clone before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnTied } from './spawn-tied.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lockFile = join(root, 'package-lock.json');
// npm rewrites this hidden lockfile on every install: when it is older than package-lock.json, the
// dependencies changed since the last install (a fresh clone has none at all).
const installedLock = join(root, 'node_modules', '.package-lock.json');

function ensureDependencies() {
  if (existsSync(installedLock) && statSync(installedLock).mtimeMs >= statSync(lockFile).mtimeMs) return;
  console.log('installing dependencies (npm ci)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/**
 * Runs the part in a process group of its own and forwards each stop signal to it exactly once, so a
 * Ctrl-C in the terminal does not reach it twice (once from the terminal, once forwarded by npm); resolves with its
 * exit code once it exited. The part dies with this process if this one is killed (spawnTied).
 */
function run(command, args, env = process.env) {
  return new Promise((resolve) => {
    const child = spawnTied(command, args, { cwd: root, env, stdio: 'inherit', detached: true });
    const forward = (signal) => child.kill(signal);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
    // npm exits about 1.5 s after a SIGTERM without waiting for its script, and a SIGTERM sent to npm alone never
    // reaches the script: once this process's parent is gone, the part is stopped as if signalled.
    const parent = process.ppid;
    const orphaned = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(orphaned);
      child.kill('SIGTERM');
    }, 500);
    child.once('exit', (code, signal) => {
      clearInterval(orphaned);
      resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
    });
  });
}

/** The Web UI tests drive Debian's Chromium: install it where this process may (root with apt-get). */
function ensureChromium() {
  if (existsSync('/usr/bin/chromium') || process.env.CHROMIUM_PATH) return;
  const canInstall = process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0;
  if (!canInstall) {
    console.warn('no Chromium at /usr/bin/chromium and no way to install it: the Web UI tests will be skipped');
    return;
  }
  console.log('installing Chromium for the Web UI tests (apt-get install chromium)…');
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  spawnSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/**
 * Exits 1 with a line for each port the part needs that is taken, naming the variable that moves it (`npm start` and
 * `npm run temporal` check their own). A bad setting is left for the part to report.
 */
async function refuseBusyPorts(target) {
  const parts = { 'src/api/main.ts': ['api'], 'src/worker/main.ts': ['worker'] }[target];
  if (!parts) return;
  const { loadConfig } = await import(pathToFileURL(join(root, '.cache', 'build', 'src', 'config.js')).href);
  let config;
  try {
    config = loadConfig();
  } catch {
    return;
  }
  const { portProblems, portsOf } = await import('./ports.mjs');
  const problems = await portProblems(portsOf(config, parts));
  if (problems.length === 0) return;
  for (const problem of problems) console.error(problem);
  process.exit(1);
}

/**
 * The SDK (packages/worker) is a dependency of the service (file:packages/worker), loaded from its dist/: npm builds
 * it at install (its prepare), and this builds it again whenever one of its sources is newer than its build.
 */
function ensureWorkerSdkBuilt() {
  const sdk = join(root, 'packages', 'worker');
  const built = join(sdk, 'dist', 'index.js');
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
  const sources = readdirSync(join(sdk, 'src')).map((name) => join(sdk, 'src', name));
  if (sources.every((path) => statSync(path).mtimeMs <= builtAt)) return;
  console.log('building the worker SDK (packages/worker)…');
  const result = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(sdk, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** Test files that time an outage, a deadline or a shutdown: npm test runs them alone. */
const runAlone = [
  'test/faults.test.ts',
  'test/temporal-deadlines.test.ts',
  'test/temporal-outage.test.ts',
  'test/graceful-shutdown.test.ts',
];

ensureDependencies();
ensureWorkerSdkBuilt();
const [target, ...rest] = process.argv.slice(2);
if (target === '--test') {
  // npm test lints too, here rather than before this script: on a fresh clone eslint exists only after the install.
  const lint = rest[0] === '--lint';
  if (lint) rest.shift();
  // Only the Web UI tests need a browser: a run of the unit tests alone installs nothing.
  const unitOnly =
    rest.length > 0 && rest.filter((arg) => !arg.startsWith('-')).every((arg) => arg.startsWith('test/unit/'));
  if (!unitOnly) ensureChromium();
  const bin = (name) => join(root, 'node_modules', '.bin', name);
  const typecheck = await run(bin('tsc'), ['--noEmit', '-p', root]);
  if (typecheck !== 0) process.exit(typecheck);
  if (lint) {
    for (const [name, args] of [
      ['eslint', ['.']],
      ['prettier', ['--check', '.']],
    ]) {
      const linted = await run(bin(name), args);
      if (linted !== 0) process.exit(linted);
    }
  }
  if (rest.length > 0) process.exit(await run(bin('mocha'), rest));
  // The whole suite: three files at a time (much of a test's time is spent waiting on Temporal's timers and on
  // processes it started: two files at a time left a quarter of two cores idle and took 12 min, three take 7), then,
  // alone, the files whose assertions time an outage or a deadline, so that another file's load does not move their
  // figures.
  const excluded = runAlone.flatMap((file) => ['--exclude', file]);
  const together = await run(bin('mocha'), ['--parallel', '--jobs', '3', ...excluded, 'test/**/*.test.ts']);
  const alone = await run(bin('mocha'), runAlone);
  process.exit(together || alone);
}
const tsx = (entry) => ['--import', 'tsx', join(root, entry)];
// The service's parts run compiled; the worker loads the workflow bundles built beforehand. The development tools,
// the bench and the launcher run through tsx.
if (target.startsWith('src/')) {
  const { buildSources, partArgs, workerMallocEnv } = await import('./build.mjs');
  await buildSources();
  await refuseBusyPorts(target);
  if (target === 'src/worker/main.ts') {
    const bundled = await run(process.execPath, tsx('dev/build-workflow-bundles.ts'));
    if (bundled !== 0) process.exit(bundled);
  }
  if (target === 'src/api/main.ts') {
    const built = await run(process.execPath, tsx('dev/build-ui.ts'));
    if (built !== 0) process.exit(built);
  }
  const env = target === 'src/worker/main.ts' ? { ...process.env, ...workerMallocEnv } : process.env;
  process.exit(await run(process.execPath, [...partArgs(target), ...rest], env));
}
process.exit(await run(process.execPath, [...tsx(target), ...rest]));
