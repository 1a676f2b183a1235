// The worker protocol's names and shapes (docs/worker-protocol.md), as the TypeScript SDK defines them: one source
// for the service and every handler worker. The subpath loads zod and nothing else (no worker, no Node built-in), so
// the workflow bundle and the rest of the contract may load it. Edit packages/worker/src/job-type-declaration.ts.
export * from '@durable-jobs/worker/protocol';
