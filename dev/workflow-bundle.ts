// The job workflows' bundle: built in-process for tests (bundleJobWorkflows), and into files for the worker by
// `npm run build:workflows`, which npm start, npm run worker and the Dockerfile run (buildWorkflowBundles).
import { createHash, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { encodedFailuresPath, jsonPayloadConverterPath } from '../src/temporal/payload-codec.js';
import { workflowBundleFile, type WorkflowBundleVariant } from '../src/worker/workflow-bundle.js';
import { projectRoot } from './project-root.js';

export const workflowsPath = join(projectRoot, 'src', 'workflows', 'index.ts');

/** The SDK's OpenTelemetry workflow interceptors, built into the traced bundles. */
const tracingInterceptorsPath = createRequire(import.meta.url).resolve(
  '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors',
);

/** The worker protocol's shapes and names, which the contract loads from the worker SDK's build. */
const workerProtocolPaths = ['@durable-jobs/worker/protocol', '@durable-jobs/worker/protocol-names'].map((name) =>
  createRequire(import.meta.url).resolve(name),
);

/** Every variant the worker may load: with or without encoded failures, with or without tracing. */
export const workflowBundleVariants: readonly WorkflowBundleVariant[] = [false, true].flatMap((encodeFailures) =>
  [false, true].map((traced) => ({ encodeFailures, traced })),
);

export interface JobWorkflowsBundleOptions extends Partial<WorkflowBundleVariant> {
  /** Workflow interceptor modules to build in: the replay test's, which reports the timers the workflows start. */
  readonly workflowInterceptorModules?: string[];
}

export async function bundleJobWorkflows(options: JobWorkflowsBundleOptions = {}): Promise<WorkflowBundle> {
  const interceptorModules = [
    ...(options.traced ? [tracingInterceptorsPath] : []),
    ...(options.workflowInterceptorModules ?? []),
  ];
  return bundleWorkflowCode({
    workflowsPath,
    payloadConverterPath: jsonPayloadConverterPath,
    ...(options.encodeFailures ? { failureConverterPath: encodedFailuresPath } : {}),
    ...(interceptorModules.length > 0 ? { workflowInterceptorModules: interceptorModules } : {}),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/**
 * A hash of what goes into a bundle: the workflows and the contract they load with the worker protocol (the layer
 * test keeps workflow code to these), the lockfile (the SDK's and the interceptors' versions), and the failure
 * converter when it is built in.
 */
async function inputsHash({ encodeFailures, traced }: WorkflowBundleVariant): Promise<string> {
  const inputs = [join(projectRoot, 'package-lock.json'), jsonPayloadConverterPath, ...workerProtocolPaths];
  for (const dir of ['src/workflows', 'src/contract']) inputs.push(...(await filesUnder(join(projectRoot, dir))));
  if (encodeFailures) inputs.push(encodedFailuresPath);
  const hash = createHash('sha256')
    .update(encodeFailures ? 'encode failures\0' : '')
    .update(traced ? 'traced\0' : '');
  for (const file of inputs)
    hash
      .update(relative(projectRoot, file))
      .update('\0')
      .update(await readFile(file));
  return hash.digest('hex');
}

/** Writes through a rename, so a worker starting meanwhile reads the old file or the new one, never half of one. */
async function writeAtomically(path: string, text: string): Promise<void> {
  // Unique per write: parts started side by side in one process (the cluster test's three workers) write at once.
  const temporary = `${path}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

/**
 * Writes the bundle of each variant into `dir` (relative to the project root), each only when its inputs changed
 * since it was written: their hash is kept beside it (`<bundle>.inputs`). Returns the files.
 */
export async function buildWorkflowBundles(
  dir: string,
  variants: readonly WorkflowBundleVariant[] = workflowBundleVariants,
  log: (line: string) => void = console.log,
): Promise<string[]> {
  const files: string[] = [];
  for (const variant of variants) {
    const file = workflowBundleFile(resolve(projectRoot, dir), variant);
    const hash = await inputsHash(variant);
    const built = await readFile(`${file}.inputs`, 'utf8').catch(() => '');
    if (built.trim() !== hash) {
      log(`bundling the workflows into ${relative(projectRoot, file)}…`);
      await mkdir(dirname(file), { recursive: true });
      const { code } = await bundleJobWorkflows(variant);
      await writeAtomically(file, code);
      await writeAtomically(`${file}.inputs`, `${hash}\n`);
    }
    files.push(file);
  }
  return files;
}
