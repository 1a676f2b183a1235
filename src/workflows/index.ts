export { jobWorkflow } from './job-workflow.js';
