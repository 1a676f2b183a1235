import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { jobSearchAttributeKeys } from '../src/workflows/search-attributes.js';
import { Worker } from '@temporalio/worker';
import { startTimeSkippingServer } from '../src/temporal/dev-server.js';
import { bundleJobWorkflows } from '../src/worker/workers.js';
import { createActivities } from '../src/activities/index.js';
import { jobWorkflow } from '../src/workflows/index.js';
import { jobStateQuery } from '../src/workflows/messages.js';
import type { JobRequest } from '../src/workflows/job-state.js';

const t0 = Date.now();
const env = await startTimeSkippingServer();
await env.connection.operatorService.addSearchAttributes({ namespace: 'default',
    searchAttributes: Object.fromEntries(jobSearchAttributeKeys.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!])) });
console.log('env', Date.now() - t0);
const bundle = await bundleJobWorkflows();
console.log('bundle', Date.now() - t0);
const taskQueue = 'q1';
const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle,
  activities: createActivities({ client: env.client, settings: { commandsDir: 'jobs/commands' }, onSignalError: (e) => console.log('sigerr', e) }) });
await worker.runUntil(async () => {
  const request: JobRequest = { jobId: 'j1', type: 'sleep', priority: 'normal', input: { seconds: 7200 }, timeoutSeconds: 3600, heartbeatTimeoutSeconds: 10,
    retry: { maxAttempts: 1, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 60 }, taskQueue, submittedAt: new Date().toISOString() };
  const handle = await env.client.workflow.start(jobWorkflow, { args: [request], taskQueue, workflowId: 'j1' });
  await new Promise((r) => setTimeout(r, 1500));
  console.log('state', await handle.query(jobStateQuery), new Date(await env.currentTimeMs()).toISOString());
  try { console.log(await handle.result()); } catch (e) { console.log('err', e, (e as any).cause?.details); }
  console.log('done', Date.now() - t0, new Date(await env.currentTimeMs()).toISOString());
  const h = await handle.fetchHistory();
  for (const e of h.events ?? []) console.log(e.eventId?.toString(), e.eventType, e.eventTime?.seconds?.toString());
});
await env.teardown();
console.log('total', Date.now() - t0);
