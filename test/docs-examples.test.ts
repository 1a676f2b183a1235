// Every shell example of README.md and docs/*.md runs, in real bash with real curl, against a real service: a
// Temporal dev server, the workers and the API (test/support/service.ts), one per doc file and `service env`.
// The convention (markers, statuses, the environment a block gets) is in docs/testing.md, "Shell examples".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  extractShellExamples,
  fixedAddresses,
  fixedIds,
  parseCurlLog,
  unexpectedStatuses,
  type ShellExample,
} from './support/doc-examples.js';
import { TestService } from './support/service.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const docFiles = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

/** The commands a block may run besides bash's builtins: no npm, node, docker or temporal, so nothing starts. */
const allowedCommands = 'curl sleep cat grep sed head tail tr cut sort uniq wc date seq env jq'.split(' ');
/** A block that takes longer is reported as long-running: mark it `not run`. */
const blockTimeoutMs = 60_000;

/** Read by bash before each block (as BASH_ENV, so that bash's line numbers are the block's): `set -e` and curl's wrapper. */
const prelude = join(root, 'test/support/doc-examples-prelude.sh');

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

interface BlockRun {
  readonly exitCode: number | null;
  readonly output: string;
  readonly curlLog: string;
}

/** The sandbox blocks run in: a PATH of the allowed commands only, and an empty directory as cwd and HOME. */
class ExampleSandbox {
  private runs = 0;
  private constructor(
    private readonly dir: string,
    private readonly bash: string,
  ) {}

  static create(): ExampleSandbox {
    const bash = findOnPath('bash');
    assert.ok(bash, 'bash is not on PATH');
    assert.ok(findOnPath('curl'), 'curl is not on PATH: the doc examples need it');
    const dir = mkdtempSync(join(tmpdir(), 'docs-examples-'));
    mkdirSync(join(dir, 'bin'));
    for (const command of allowedCommands) {
      const found = findOnPath(command);
      if (found) symlinkSync(found, join(dir, 'bin', command));
    }
    return new ExampleSandbox(dir, bash);
  }

  async run(example: ShellExample, api: string): Promise<BlockRun> {
    const work = join(this.dir, `block-${++this.runs}`);
    mkdirSync(work);
    // bash names the script in its errors: line N of the block is line `example.line + N` of the doc.
    const script = join(work, `${example.file.replaceAll('/', '-')}-from-line-${example.line + 1}.sh`);
    const curlLog = join(work, 'curl.log');
    writeFileSync(script, example.code);
    writeFileSync(curlLog, '');
    const child = spawn(this.bash, [script], {
      cwd: work,
      // A new process group: whatever the block leaves behind is killed with it.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: join(this.dir, 'bin'),
        HOME: work,
        LANG: 'C.UTF-8',
        API: api,
        BASH_ENV: prelude,
        DOCS_EXAMPLE_DIR: work,
        DOCS_CURL_LOG: curlLog,
      },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid!);
    }, blockTimeoutMs);
    const closed = new Promise((resolve) => child.once('close', resolve));
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    clearTimeout(timer);
    // Whatever the block left running goes with it, and so the output's pipes close.
    killGroup(child.pid!);
    await closed;
    if (timedOut) {
      assert.fail(
        `${example.file}:${example.line} did not finish in ${blockTimeoutMs / 1000} s: if it is long-running, mark it <!-- not run: … -->\n${output}`,
      );
    }
    return { exitCode, output, curlLog: readFileSync(curlLog, 'utf8') };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is gone already.
  }
}

/** The key blocks of one file share a service by: the variables of their `service env`. */
function serviceKey(example: ShellExample): string {
  return JSON.stringify(Object.entries(example.serviceEnv).sort());
}

describe('Shell examples in README.md and docs/', function () {
  let sandbox: ExampleSandbox;
  const tally: string[] = [];
  before(function () {
    sandbox = ExampleSandbox.create();
  });
  after(function () {
    sandbox?.remove();
    console.log(`\n  doc examples: ${tally.join('; ')}`);
  });

  const idsByFile = new Map<string, Set<string>>();
  it('no two files set the same jobId or scheduleId (a person runs them all against one service)', function () {
    const files = new Map<string, string>();
    const shared: string[] = [];
    for (const [file, ids] of idsByFile) {
      for (const id of ids) {
        const other = files.get(id);
        if (other !== undefined) shared.push(`${id}: ${other} and ${file}`);
        files.set(id, file);
      }
    }
    assert.deepEqual(shared, []);
  });

  for (const file of docFiles) {
    let examples: ShellExample[];
    try {
      examples = extractShellExamples(readFileSync(join(root, file), 'utf8'), file);
    } catch (err) {
      it(`${file}: its fences and markers can be read`, function () {
        throw err;
      });
      continue;
    }
    if (examples.length === 0) continue;
    idsByFile.set(
      file,
      new Set(examples.filter((example) => example.notRun === undefined).flatMap((example) => fixedIds(example.code))),
    );

    describe(file, function () {
      const services = new Map<string, TestService>();
      const runnable = examples.filter((example) => example.notRun === undefined);
      tally.push(`${file} ${runnable.length} run, ${examples.length - runnable.length} skipped`);

      before(async function () {
        this.timeout(120_000);
        for (const example of runnable) {
          const key = serviceKey(example);
          if (services.has(key)) continue;
          services.set(
            key,
            await TestService.start({
              env: { JOBS_COMMANDS_DIR: join(root, 'jobs/commands'), ...example.serviceEnv },
            }),
          );
        }
      });
      after(async function () {
        this.timeout(60_000);
        for (const service of services.values()) await service.teardown();
      });

      for (const example of examples) {
        const title = `${file}:${example.line}`;
        if (example.notRun !== undefined) {
          it.skip(`${title} (not run: ${example.notRun})`);
          continue;
        }
        it(title, async function () {
          this.timeout(blockTimeoutMs + 10_000);
          const addresses = fixedAddresses(example.code);
          assert.deepEqual(
            addresses,
            [],
            `${title} names addresses outright: write "$API" after API=\${API:-localhost:3000}, or mark the block not run`,
          );
          const service = services.get(serviceKey(example))!;
          const { exitCode, output, curlLog } = await sandbox.run(example, new URL(service.baseUrl).host);
          const calls = parseCurlLog(curlLog);
          this.test!.title += ` (curl statuses: ${calls.map((call) => call.status ?? 'none').join(' ') || 'no curl'})`;
          const report = `\n--- output ---\n${output.slice(-4000)}\n--- curls ---\n${curlLog}`;
          // 127: a command outside the sandbox's PATH, such as npm start.
          const hint = exitCode === 127 ? ` (a command the test does not run: mark the block <!-- not run: … -->)` : '';
          assert.equal(exitCode, 0, `${title} exited ${exitCode}${hint}${report}`);
          assert.deepEqual(
            unexpectedStatuses(calls, example.expectStatus),
            [],
            `${title}: unexpected statuses${report}`,
          );
        });
      }
    });
  }
});
