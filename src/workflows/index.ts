export { callbackWorkflow } from './callback-workflow.js';
export { jobWorkflow } from './job-workflow.js';
export { jobTypeRegistryWorkflow } from './job-type-registry.js';
export { hookRegistryWorkflow } from './hook-registry.js';
