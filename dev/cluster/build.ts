import { spawn } from 'node:child_process';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../project-root.js';

/**
 * The Temporal server the cluster runs, built from its Go module: no release binary can be downloaded
 * here, but the Go module proxy is reachable. v1.32.2 needs a newer Go than the machine's, which
 * GOTOOLCHAIN fetches from the same proxy.
 */
export const temporalServerModule = {
  path: 'go.temporal.io/server',
  version: 'v1.32.2',
  goToolchain: 'go1.26.10',
} as const;

/** What a build leaves in the project's cache, reused by every later run. */
export interface ClusterBinaries {
  /** `temporal-server`: `start --service <name>` runs one service. */
  readonly server: string;
  /** `temporal-sql-tool`: creates the databases and applies the versioned schemas it embeds. */
  readonly sqlTool: string;
}

const cacheDir = join(projectRoot, '.cache', `temporal-server-${temporalServerModule.version}`);
/** Written last, so a build cut short is redone rather than half used. */
const readyMarker = join(cacheDir, '.ready');

function binariesIn(dir: string): ClusterBinaries {
  return {
    server: join(dir, 'bin', 'server'),
    sqlTool: join(dir, 'bin', 'sql'),
  };
}

/** Thrown by buildClusterBinaries when `go` fails or is missing; the message carries its output. */
export class ClusterBuildFailedError extends Error {
  override readonly name = 'ClusterBuildFailedError';
}

function go(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('error', (err) =>
      reject(
        new ClusterBuildFailedError(
          `cannot run go (${err.message}); install Go ≥ 1.21 (it fetches ${temporalServerModule.goToolchain} itself)`,
        ),
      ),
    );
    child.once('exit', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(new ClusterBuildFailedError(`go ${args.join(' ')} exited ${code}:\n${stderr.slice(-4000)}`)),
    );
  });
}

/**
 * Returns the cached binaries, building them first when the cache is empty (≈ 5 min on 2 cores, and
 * ≈ 3 GB of Go caches outside the project). Builds into a scratch directory and renames it into place,
 * so an interrupted build never looks finished.
 */
export async function buildClusterBinaries(log: (line: string) => void = console.log): Promise<ClusterBinaries> {
  if (
    await stat(readyMarker).then(
      () => true,
      () => false,
    )
  )
    return binariesIn(cacheDir);

  const scratch = `${cacheDir}.building-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(join(scratch, 'bin'), { recursive: true });
  const { path, version, goToolchain } = temporalServerModule;
  const env = {
    ...process.env,
    GOTOOLCHAIN: goToolchain,
    GOFLAGS: '-mod=mod',
    GOBIN: join(scratch, 'bin'),
    CGO_ENABLED: '0',
  };
  try {
    log(
      `building temporal-server and temporal-sql-tool from ${path}@${version} with ${goToolchain} (once; a few minutes)…`,
    );
    // One `go install` for both: they share most packages, so the second costs little.
    await go(['install', `${path}/cmd/server@${version}`, `${path}/cmd/tools/sql@${version}`], env, scratch);
    await writeFile(join(scratch, '.ready'), `${path}@${version}\n`);
    await rm(cacheDir, { recursive: true, force: true });
    await rename(scratch, cacheDir);
  } catch (err) {
    await rm(scratch, { recursive: true, force: true });
    throw err;
  }
  return binariesIn(cacheDir);
}
