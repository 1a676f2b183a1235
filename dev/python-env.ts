// The Python environment of python/ (the durable_jobs package): a venv under .cache/python-venv with the
// exact pins of python/requirements-dev.txt from PyPI, and the package installed into it as a user's pip
// would (a wheel, not an editable install). Idempotent: the venv is rebuilt only when the pins or the
// interpreter change, the package reinstalled only when its files do. test/python.test.ts calls it.
//   node --import tsx dev/python-env.ts        (prints the venv's bin folder)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const pythonPackageDir = join(root, 'python');
const venvDir = join(root, '.cache', 'python-venv');
const requirementsFile = join(pythonPackageDir, 'requirements-dev.txt');
// Written last by each step, so a step cut short is redone on the next run.
const venvKeyFile = join(venvDir, '.requirements-key');
const packageKeyFile = join(venvDir, '.package-key');
/** Held while one process builds the venv: test files run several at a time, and two builds of one venv break both. */
const lockDir = join(root, '.cache', 'python-venv.lock');
// The pins are resolved for CPython 3.11 (the version this project's machines have); 3.12 and 3.13 take the
// same wheels where these exist, 3.10 would need backports (tomli, exceptiongroup) the pins leave out.
const interpreters = ['python3.11', 'python3.12', 'python3.13', 'python3'];

export interface PythonEnv {
  /** The venv's bin folder: `ruff`, `mypy`, `pytest`, `python`. */
  readonly binDir: string;
  bin(name: string): string;
}

interface Run {
  readonly code: number | null;
  readonly output: string;
}

/** Runs a command without blocking the event loop (the tests' service answers from this same process). */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? root, env: options.env ?? process.env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

async function mustRun(command: string, args: readonly string[]): Promise<string> {
  const { code, output } = await runCommand(command, args);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`);
  return output;
}

/** The first interpreter found at 3.11 or later, with its exact version (part of the venv's key). */
async function findInterpreter(): Promise<{ command: string; version: string }> {
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : interpreters;
  for (const command of candidates) {
    const found = await runCommand(command, [
      '-c',
      'import sys; print(sys.version_info >= (3, 11), sys.implementation.name, sys.version.split()[0])',
    ]).catch(() => undefined);
    const [ok, implementation, version] = found?.code === 0 ? found.output.trim().split(' ') : [];
    if (ok === 'True') return { command, version: `${implementation} ${version}` };
  }
  throw new Error(`no Python 3.11 or later found (tried ${candidates.join(', ')}; env PYTHON names another)`);
}

function sha256(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

async function readKey(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch(() => undefined);
}

/** What the package's installed copy depends on: pyproject.toml, README.md and every file under src/. */
async function packageKey(): Promise<string> {
  const files = ['pyproject.toml', 'README.md'];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== '__pycache__') await walk(path);
      } else if (!entry.name.endsWith('.pyc')) files.push(relative(pythonPackageDir, path));
    }
  };
  await walk(join(pythonPackageDir, 'src'));
  files.sort();
  const parts: (string | Buffer)[] = [];
  for (const file of files) parts.push(file, await readFile(join(pythonPackageDir, file)));
  return sha256(...parts);
}

/** Runs `work` holding the venv's lock; a lock whose holder has died is taken over. */
async function withVenvLock<T>(work: () => Promise<T>): Promise<T> {
  await mkdir(join(root, '.cache'), { recursive: true });
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await readFile(join(lockDir, 'pid'), 'utf8').catch(() => ''));
      if (holder > 0 && !isAlive(holder)) await rm(lockDir, { recursive: true, force: true });
      else await delay(250);
    }
  }
  try {
    await writeFile(join(lockDir, 'pid'), String(process.pid));
    return await work();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Builds (or finds current) the venv and the package's installed copy, and answers where its tools are. */
export function ensurePythonEnv(log: (line: string) => void = () => undefined): Promise<PythonEnv> {
  return withVenvLock(() => buildPythonEnv(log));
}

async function buildPythonEnv(log: (line: string) => void): Promise<PythonEnv> {
  const binDir = join(venvDir, 'bin');
  const env: PythonEnv = { binDir, bin: (name) => join(binDir, name) };
  const pip = (...args: string[]) =>
    mustRun(env.bin('python'), ['-m', 'pip', '--disable-pip-version-check', '--no-input', ...args]);

  const interpreter = await findInterpreter();
  const requirementsKey = sha256(await readFile(requirementsFile), interpreter.version);
  if ((await readKey(venvKeyFile)) !== requirementsKey || !existsSync(env.bin('python'))) {
    log(`building ${relative(root, venvDir)} (${interpreter.version}) from ${relative(root, requirementsFile)}`);
    await rm(venvDir, { recursive: true, force: true });
    await mustRun(interpreter.command, ['-m', 'venv', venvDir]);
    // Every package is pinned in the file, its dependencies too: --no-deps keeps out anything unpinned, and
    // pip check then proves the pins consistent.
    await pip('install', '--no-deps', '-r', requirementsFile);
    await pip('check');
    await writeFile(venvKeyFile, requirementsKey);
  }

  const installedKey = await packageKey();
  if ((await readKey(packageKeyFile)) !== installedKey) {
    log('installing ./python into the venv');
    // The build backend (hatchling) is one of the pins, so the build needs no isolated, unpinned download.
    await pip('install', '--no-deps', '--no-build-isolation', '--force-reinstall', pythonPackageDir);
    await pip('check');
    await writeFile(packageKeyFile, installedKey);
  }
  return env;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  ensurePythonEnv((line) => console.log(line))
    .then((env) => console.log(env.binDir))
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
