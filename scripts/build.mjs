// The service's parts run as JavaScript compiled from src/ into .cache/build/src/, not through tsx: tsx's
// loader thread costs each process about 35 MB of memory for good. Plain Node.js on purpose: scripts/run.mjs
// uses it before anything but the dependencies is there.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, '.cache', 'build');

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

function readOrEmpty(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Transpiles every file of src/ (no bundling: the tree keeps its shape, so relative imports hold). Only
 * changed files are written, each through a rename, so processes started from an earlier build of the same
 * tree never read half a file.
 */
export async function buildSources() {
  const { build } = await import('esbuild');
  const { outputFiles } = await build({
    entryPoints: sourceFiles(join(root, 'src')),
    outbase: root,
    outdir: buildDir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    write: false,
    logLevel: 'error',
  });
  for (const file of outputFiles) {
    if (readOrEmpty(file.path) === file.text) continue;
    mkdirSync(dirname(file.path), { recursive: true });
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.text);
    renameSync(temporary, file.path);
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

/** Node's arguments to run a part: its flags and its compiled entry. */
export function partArgs(entry) {
  return [...partNodeFlags, builtEntry(entry)];
}

// `node scripts/build.mjs`: the build alone (the Dockerfile's step).
if (process.argv[1] === fileURLToPath(import.meta.url)) await buildSources();
