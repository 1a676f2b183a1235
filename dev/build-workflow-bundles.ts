// `npm run build:workflows`: the worker's workflow bundles, plain and with encoded failures, each with and without the
// OpenTelemetry interceptors, into WORKFLOW_BUNDLE_DIR
// (dist/workflow-bundles/ by default), each rebuilt only when what goes into it changed.
import { loadConfig } from '../src/config.js';
import { buildWorkflowBundles } from './workflow-bundle.js';

await buildWorkflowBundles(loadConfig().WORKFLOW_BUNDLE_DIR);
