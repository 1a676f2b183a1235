// The lean job's worker, a process of its own beside the service's (so the CPU of each is read apart): the
// workflow bundled from bench/lean/workflows.ts, on the task queue LEAN_TASK_QUEUE of the server at TEMPORAL_ADDRESS.
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createLeanActivities } from './activities.js';
import { leanWorkerReadyLine } from './ready-line.js';

async function run(): Promise<void> {
  const address = process.env['TEMPORAL_ADDRESS'];
  const taskQueue = process.env['LEAN_TASK_QUEUE'];
  if (!address || !taskQueue) throw new Error('TEMPORAL_ADDRESS and LEAN_TASK_QUEUE are required');
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
    activities: createLeanActivities(),
    // As many activity slots as the service's worker gives the `normal` priority the bench runs.
    maxConcurrentActivityTaskExecutions: Number(process.env['LEAN_SLOTS'] ?? 32),
  });
  console.log(leanWorkerReadyLine);
  await worker.run();
  await connection.close();
}

run().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
