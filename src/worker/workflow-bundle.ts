import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { WorkflowBundlePath } from '@temporalio/worker';

export interface WorkflowBundleVariant {
  /**
   * Built with the failure converter that encodes failures' messages and stack traces (encoded-failures.cjs): for
   * workers with payload codecs, whose dataConverterFor(codecs) encodes them outside the workflows too.
   */
  readonly encodeFailures: boolean;
  /**
   * Built with the OpenTelemetry workflow interceptors, which continue a job's trace through its workflow: for workers
   * exporting traces (OTEL_EXPORTER_OTLP_ENDPOINT). Without them a workflow costs nothing for tracing.
   */
  readonly traced?: boolean;
}

/** The file of a workflow bundle in WORKFLOW_BUNDLE_DIR, as `npm run build:workflows` writes it. */
export function workflowBundleFile(dir: string, { encodeFailures, traced }: WorkflowBundleVariant): string {
  return join(dir, `job-workflows${encodeFailures ? '-encoded-failures' : ''}${traced ? '-traced' : ''}.js`);
}

/** Thrown by prebuiltWorkflowBundle when the build did not write the bundle the worker needs. */
export class WorkflowBundleMissingError extends Error {
  override readonly name = 'WorkflowBundleMissingError';
}

/**
 * The workflow bundle built at build time: the worker never bundles (webpack would cost it 60–100 MB of memory
 * for good and seconds at every start).
 */
export function prebuiltWorkflowBundle(dir: string, variant: WorkflowBundleVariant): WorkflowBundlePath {
  const codePath = resolve(workflowBundleFile(dir, variant));
  if (!existsSync(codePath)) {
    throw new WorkflowBundleMissingError(
      `no workflow bundle at ${codePath} (WORKFLOW_BUNDLE_DIR): \`npm run build:workflows\` writes it`,
    );
  }
  return { codePath };
}
