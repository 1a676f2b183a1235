// The FastAPI example (examples/python-fastapi) as a user runs it: the real service (a Temporal dev server, the
// service's workers and the API), the example's worker started by the package's CLI and its app by uvicorn, each a
// process of its own on free ports; then the example's own smoke test (pytest) drives the app over HTTP.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ensurePythonEnv, pythonPackageDir, runCommand, type PythonEnv } from '../dev/python-env.js';
import { freePort } from './support/processes.js';
import { TestService } from './support/service.js';

const root = join(pythonPackageDir, '..');
const exampleDir = join(root, 'examples', 'python-fastapi');

/** The tools' caches go under the ignored .cache/, not into the example. */
function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    RUFF_CACHE_DIR: join(root, '.cache', 'ruff'),
    MYPY_CACHE_DIR: join(root, '.cache', 'mypy-example'),
    PYTHONDONTWRITEBYTECODE: '1',
    ...extra,
  };
}

async function assertPasses(env: PythonEnv, tool: string, args: string[], extra?: Record<string, string>) {
  const { code, output } = await runCommand(env.bin(tool), args, { cwd: exampleDir, env: toolEnv(extra) });
  assert.equal(code, 0, `${tool} ${args.join(' ')} exited ${code}:\n${output}`);
  return output;
}

/** A process of the example (its worker, its app); its output is kept and shown when a test fails. */
class ExampleProcess {
  readonly output: string[] = [];
  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
  }

  static start(name: string, command: string, args: string[], env: Record<string, string>): ExampleProcess {
    const child = spawn(command, args, { cwd: exampleDir, env: toolEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    return new ExampleProcess(name, child);
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** How it ended: its exit code, or the signal that ended it. */
  get exit(): number | NodeJS.Signals | null {
    return this.child.exitCode ?? this.child.signalCode;
  }

  /** SIGTERM, as a deployment stops it; SIGKILL if it has not exited 15 s later. Answers how it ended. */
  async stop(): Promise<number | NodeJS.Signals | null> {
    if (!this.exited) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    }
    return this.exit;
  }

  describe(): string {
    return `--- ${this.name} (${this.exited ? `exited ${this.exit}` : 'running'}):\n${this.output.join('')}`;
  }
}

/** Calls `read` every 200 ms until it answers true; fails naming `what` after `ms`. */
async function until(what: string, read: () => Promise<boolean>, processes: ExampleProcess[], ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!(await read().catch(() => false))) {
    const dead = processes.find((child) => child.exited);
    if (dead) throw new Error(`${what}: ${dead.name} exited\n${dead.describe()}`);
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${ms} ms\n${processes.map((p) => p.describe()).join('\n')}`);
    await delay(200);
  }
}

describe('The FastAPI example (examples/python-fastapi)', function () {
  let env: PythonEnv;
  before(async function () {
    // A fresh machine downloads the pinned wheels from PyPI once; later runs find the venv current.
    this.timeout(300_000);
    env = await ensurePythonEnv((line) => console.log(`      ${line}`));
  });

  it('passes ruff check and ruff format --check', async function () {
    await assertPasses(env, 'ruff', ['check', '.']);
    await assertPasses(env, 'ruff', ['format', '--check', '.']);
  });

  it('type-checks under mypy --strict, its smoke test too', async function () {
    this.timeout(180_000);
    await assertPasses(env, 'mypy', ['--strict']);
  });

  describe('run as its README says, against the service', function () {
    let service: TestService;
    let appUrl: string;
    const processes: ExampleProcess[] = [];

    before(async function () {
      this.timeout(120_000);
      // Payloads encrypted, as npm start has them: the worker reads inputs and writes results with the same key.
      const payloadKey = randomBytes(32).toString('base64');
      service = await TestService.start({ env: { PAYLOAD_ENCRYPTION_KEY: payloadKey } });
      const shared = {
        PAYLOAD_ENCRYPTION_KEY: payloadKey,
        DURABLE_JOBS_URL: service.baseUrl,
        TEMPORAL_ADDRESS: service.temporal.address,
        TEMPORAL_NAMESPACE: service.config.TEMPORAL_NAMESPACE,
        JOBS_TASK_QUEUE_PREFIX: service.config.JOBS_TASK_QUEUE_PREFIX,
      };
      processes.push(
        ExampleProcess.start(
          'worker',
          env.bin('durable-jobs'),
          ['worker', 'simulations.jobs:simulate', 'simulations.jobs:report', '--queues', 'high:2,normal:4'],
          shared,
        ),
      );
      // A submit is refused until the worker has declared its types: wait for the API to list both.
      await until(
        'the API lists simulate and report',
        async () => {
          const { status, body } = await service.request<{ types: { name: string }[] }>('GET', '/api/v1/job-types');
          const names = status === 200 ? body.types.map((type) => type.name) : [];
          return names.includes('simulate') && names.includes('report');
        },
        processes,
      );
      const port = await freePort();
      appUrl = `http://127.0.0.1:${port}`;
      processes.push(
        ExampleProcess.start(
          'app',
          env.bin('uvicorn'),
          ['simulations.app:app', '--host', '127.0.0.1', '--port', String(port)],
          shared,
        ),
      );
      await until('the app answers', async () => (await fetch(`${appUrl}/openapi.json`)).ok, processes);
    });

    afterEach(function () {
      if (this.currentTest?.state === 'failed') for (const child of processes) console.log(child.describe());
    });

    after(async function () {
      this.timeout(60_000);
      for (const child of [...processes].reverse()) await child.stop();
      await service?.teardown();
    });

    it('passes its smoke test: a simulation succeeds with progress and a report, a cancel stops one, a bad report fails at once', async function () {
      this.timeout(120_000);
      const output = await assertPasses(env, 'pytest', ['-q', '-rs', 'tests'], { SIMULATIONS_URL: appUrl });
      assert.match(output, /\b5 passed\b/, output);
      assert.doesNotMatch(output, /\bskipped\b/, output);
    });

    it('stops its app and its worker gracefully on SIGTERM', async function () {
      this.timeout(60_000);
      const [worker, app] = processes;
      assert.ok(worker && app);
      // uvicorn runs the lifespan's exit (the client closed), then raises the signal it caught again: it ends by it.
      assert.equal(await app.stop(), 'SIGTERM', app.describe());
      assert.match(app.output.join(''), /Application shutdown complete/, app.describe());
      assert.equal(await worker.stop(), 0, worker.describe());
    });
  });
});
