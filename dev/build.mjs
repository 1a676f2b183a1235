// The service's parts run as JavaScript compiled from src/ into .cache/build/src/, not through tsx: tsx's
// loader thread costs each process about 35 MB of memory for good. Plain Node.js on purpose: dev/run.mjs
// uses it before anything but the dependencies is there. The production build is `npm run build` (tsc into dist/).
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, '.cache', 'build');

/** The files of `dir` whose names end in `suffix`, in every folder below it. */
function filesIn(dir, suffix) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesIn(path, suffix);
    return entry.name.endsWith(suffix) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Writes `text` to `path` unless it holds it already, through a rename. */
function writeIfChanged(path, text) {
  if (readOrEmpty(path) === text) return;
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

function readOrEmpty(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Transpiles every file of src/ (no bundling: the tree keeps its shape, so relative imports hold) and copies its
 * CommonJS modules (the failure converter) beside them. Only changed files are written, each through a rename, so
 * processes started from an earlier build of the same tree never read half a file.
 */
export async function buildSources() {
  const { build } = await import('esbuild');
  const { outputFiles } = await build({
    entryPoints: filesIn(join(root, 'src'), '.ts'),
    outbase: root,
    outdir: buildDir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'error',
  });
  for (const file of outputFiles) writeIfChanged(file.path, file.text);
  for (const path of filesIn(join(root, 'src'), '.cjs')) {
    writeIfChanged(join(buildDir, relative(root, path)), readFileSync(path, 'utf8'));
  }
}

/** The compiled file of a TypeScript entry under src/ (a path relative to the project root, or absolute). */
function builtEntry(entry) {
  return join(buildDir, relative(root, join(root, entry)).replace(/\.ts$/, '.js'));
}

/**
 * V8 flags of every part. Young-generation semispaces of 4 MB instead of Node's 16 keep the worker about 40 MB
 * smaller under load (its workflow thread has a young generation of its own), for more frequent minor GCs
 * that did not move the bench's throughput. The Dockerfile sets the same through NODE_OPTIONS.
 */
export const partNodeFlags = ['--max-semi-space-size=4'];

/**
 * glibc malloc settings of the worker process, however it is started (`npm start`, `npm run worker`, the tests' and
 * the bench's parts; the Dockerfile sets the same): Temporal's Rust core and Node's buffers of a command's output
 * allocate and free blocks of 64 KB to 1 MB (payloads, pipe reads) from many threads; with glibc's defaults (an arena
 * per thread, a threshold for mmap that rises with each big block freed) the freed memory stayed in the process.
 */
export const workerMallocEnv = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '65536' };

/** Node's arguments to run a part: its flags and its compiled entry. */
export function partArgs(entry) {
  return [...partNodeFlags, builtEntry(entry)];
}
