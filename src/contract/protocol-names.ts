// The worker protocol's names and constants without its schemas (see job-type-declaration.ts): what the workflows
// load, since each workflow evaluates afresh every module it loads and zod's schemas cost it 1.4 MB.
export * from '@durable-jobs/worker/protocol-names';
