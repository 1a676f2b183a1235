export { callbackWorkflow } from './callback-workflow.js';
export { jobWorkflow } from './job-workflow.js';
export { jobTypeRegistryWorkflow } from './job-type-registry.js';
