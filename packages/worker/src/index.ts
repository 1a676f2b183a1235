export {
  defineJobType,
  JobTypeDefinitionError,
  UnrecoverableError,
  type Infer,
  type JobContext,
  type JobLogger,
  type JobType,
  type JobTypeDefinition,
  type JsonSchemaObject,
} from './job-type.js';
export { AttemptsAbandonedError, runWorker, WorkerOptionsInvalidError, type RunWorkerOptions } from './run-worker.js';
export type { JobAttempt } from './attempt.js';
export { PayloadKeyInvalidError, PayloadKeyUnknownError } from './payload-codec.js';
export {
  jobTypeTaskQueue,
  protocolDefaults,
  workerProtocolVersion,
  type AttemptInfo,
  type AttemptLogLevel,
  type AttemptLogs,
  type AttemptOutcome,
  type DefaultsWhen,
  type JobTypeDeclaration,
} from './job-type-declaration.js';
