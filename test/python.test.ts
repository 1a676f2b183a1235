// The Python package (python/): its pinned environment built by the project's own setup, ruff, mypy --strict,
// and its pytest suite against the real service (a Temporal dev server, the workers and the API on an
// ephemeral port, with API keys), where the Python clients round-trip every endpoint and the models are
// compared with the /openapi.json the service serves.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ensurePythonEnv, pythonPackageDir, runCommand, type PythonEnv } from '../dev/python-env.js';
import { TestService } from './support/service.js';

const root = join(pythonPackageDir, '..');
const tenantKey = 'python-client-test-key-0001';
const otherTenantKey = 'python-client-other-key-0002';

/** The tools' caches go under the ignored .cache/, not into python/. */
function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    RUFF_CACHE_DIR: join(root, '.cache', 'ruff'),
    MYPY_CACHE_DIR: join(root, '.cache', 'mypy'),
    PYTHONDONTWRITEBYTECODE: '1',
    ...extra,
  };
}

async function assertPasses(env: PythonEnv, tool: string, args: string[], extra?: Record<string, string>) {
  const { code, output } = await runCommand(env.bin(tool), args, { cwd: pythonPackageDir, env: toolEnv(extra) });
  assert.equal(code, 0, `${tool} ${args.join(' ')} exited ${code}:\n${output}`);
  return output;
}

describe('The Python package', function () {
  let env: PythonEnv;
  before(async function () {
    // A fresh machine downloads the pinned wheels from PyPI once (about 20 s); later runs find the venv current.
    this.timeout(300_000);
    env = await ensurePythonEnv((line) => console.log(`      ${line}`));
  });

  it('passes ruff check', async function () {
    await assertPasses(env, 'ruff', ['check', '.']);
  });

  it('is formatted as ruff format says', async function () {
    await assertPasses(env, 'ruff', ['format', '--check', '.']);
  });

  it('type-checks under mypy --strict, its tests too', async function () {
    this.timeout(120_000);
    await assertPasses(env, 'mypy', ['--strict']);
  });

  describe('against the service', function () {
    let service: TestService;
    before(async function () {
      service = await TestService.start({ env: { API_KEYS: `python:${tenantKey},other:${otherTenantKey}` } });
    });
    after(async function () {
      await service?.teardown();
    });

    it('passes pytest: both clients round-trip every endpoint, the models match /openapi.json', async function () {
      this.timeout(120_000);
      // Its tests mostly wait on the service and Temporal: four processes (pytest-xdist) run them in a third of the time.
      const output = await assertPasses(env, 'pytest', ['-q', '-rs', '-n', '4', '--durations=5'], {
        DURABLE_JOBS_BASE_URL: service.baseUrl,
        DURABLE_JOBS_API_KEY: tenantKey,
        DURABLE_JOBS_TENANT: 'python',
        DURABLE_JOBS_OTHER_API_KEY: otherTenantKey,
        // The worker's own tests (tests/test_serve.py) run serve() and its registry lease against its Temporal.
        DURABLE_JOBS_TEMPORAL_ADDRESS: service.temporal.address,
      });
      // Every test needs to have run here: a skip means the service was not reached as the tests expect.
      assert.match(output, /\b\d+ passed\b/, output);
      assert.doesNotMatch(output, /\bskipped\b/, output);
    });
  });
});
