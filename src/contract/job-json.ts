import type { Job, JobState } from './job.js';
import { JsonText } from './json-text.js';

export interface JobLinkSettings {
  /** The Temporal Web UI's base URL. */
  readonly uiUrl: string;
  readonly namespace: string;
  /** TRACE_UI_URL: a trace viewer's address with `{traceId}` where the trace id goes. */
  readonly traceUrl?: string | undefined;
}

export function jobPath(jobId: string): string {
  return `/api/v1/jobs/${encodeURIComponent(jobId)}`;
}

/** What every secret value of a job's input reads as in the job JSON. */
export const redacted = '***';

/**
 * The input as the job JSON shows it: a command job's `env` values are secrets (tokens, passwords) and read
 * as `***`; the handler still gets them, and Temporal stores them only encrypted (PAYLOAD_ENCRYPTION_KEY).
 */
export function redactedInput(type: string, input: unknown): unknown {
  if (type !== 'command' || typeof input !== 'object' || input === null || !('env' in input)) return input;
  const { env } = input;
  if (typeof env !== 'object' || env === null) return input;
  return { ...input, env: Object.fromEntries(Object.keys(env).map((name) => [name, redacted])) };
}

/**
 * The contract's job JSON from the workflow's state: the one function behind polls, lists, events and
 * completion callbacks.
 */
export function toJobJson(state: JobState, workflowId: string, settings: JobLinkSettings): Job {
  return {
    jobId: state.jobId,
    type: state.type,
    priority: state.priority,
    status: state.status,
    attempt: state.attempt,
    maxAttempts: state.maxAttempts,
    progress: state.progress,
    // An input held as text is held as the job JSON shows it: redacted when it was made (src/jobs/shown-json.ts).
    input: state.input instanceof JsonText ? state.input : redactedInput(state.type, state.input),
    result: state.result,
    error: state.error,
    lastError: state.lastError,
    createdAt: state.createdAt,
    startedAt: state.startedAt,
    finishedAt: state.finishedAt,
    // States recorded before these fields existed lack them.
    runAt: state.runAt ?? null,
    run: state.run ?? 1,
    callback: state.callback ? { ...state.callback, lastError: state.callback.lastError ?? null } : null,
    children: state.children ?? null,
    tags: state.tags ?? [],
    traceId: state.traceId ?? null,
    links: {
      self: jobPath(state.jobId),
      ui: `${settings.uiUrl}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`,
      ...(state.traceId && settings.traceUrl
        ? { trace: settings.traceUrl.replaceAll('{traceId}', encodeURIComponent(state.traceId)) }
        : {}),
    },
  };
}
