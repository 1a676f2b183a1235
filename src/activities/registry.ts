import { commandJob } from './command.js';
import type { JobType } from './job-type.js';
import { sleepJob } from './sleep.js';

/** The registered job types. Adding one is a new file beside this one plus one line here. */
export const jobTypes: readonly JobType[] = [sleepJob, commandJob];

export function findJobType(name: string): JobType | undefined {
  return jobTypes.find((jobType) => jobType.name === name);
}
