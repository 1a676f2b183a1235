import type { z } from 'zod';
import type { JobDefaults } from '../contract/job.js';
import type { CommandSandbox } from './command.js';

/** What a job handler is given for one attempt. */
export interface JobContext {
  readonly jobId: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Aborted when the job is cancelled or the attempt times out: stop promptly. */
  readonly signal: AbortSignal;
  /** Reports progress; it shows in polls within about a second. */
  progress(percent: number | null, message?: string | null): void;
}

/** Defaults that depend on the input (a command's manifest), before the job type's own. */
export interface InputDefaults {
  readonly timeoutSeconds?: number;
  readonly maxAttempts?: number;
}

/** What `checkInput` found. */
export type InputCheck = { readonly problem: string } | { readonly defaults: InputDefaults };

/** Settings a job type may need beyond its input, taken from the process's configuration. */
export interface JobTypeSettings {
  readonly commandsDir: string;
  /** How the worker confines commands; the API, which only checks inputs, has none. */
  readonly commandSandbox?: CommandSandbox;
}

/**
 * A job type: a name, a zod input schema, a handler (run as a Temporal activity named after the type) and
 * the defaults for the fields a submit body leaves out.
 */
export interface JobType<TInput = unknown, TResult = unknown> {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: z.ZodType<TInput>;
  readonly defaults: JobDefaults;
  /** Checks that need the machine (files, paths): a problem for a 400, or the defaults the input's own target sets. */
  checkInput?(input: TInput, settings: JobTypeSettings): Promise<InputCheck>;
  run(input: TInput, context: JobContext, settings: JobTypeSettings): Promise<TResult>;
}

/** Thrown by a job handler for a failure that another attempt might not have: the job is retried. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

/** Thrown by a job handler for a failure no retry can fix: the job ends `failed` at once. */
export class UnrecoverableError extends Error {
  override readonly name = 'UnrecoverableError';
}
