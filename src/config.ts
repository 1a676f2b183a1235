import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { JobPriority } from './contract/job.js';

/** The items of a comma-separated variable, trimmed, the empty ones left out. */
function commaItems(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** A comma-separated variable whose items `parse` reads; an item it cannot read is refused with `refusal(item)`. */
function commaList<T>(parse: (item: string) => T | undefined, refusal: (item: string) => string) {
  return z.string().transform((text, ctx) =>
    commaItems(text).flatMap((item) => {
      const parsed = parse(item);
      if (parsed === undefined) ctx.addIssue({ code: 'custom', message: refusal(item) });
      return parsed === undefined ? [] : [parsed];
    }),
  );
}

const QueueSlots = z.string().transform((text, ctx) => {
  const slots: Partial<Record<JobPriority, number>> = {};
  for (const item of commaItems(text)) {
    const match = /^(high|normal|low):([1-9]\d{0,3})$/.exec(item);
    if (!match) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not <high|normal|low>:<slots 1-9999>` });
      return z.NEVER;
    }
    slots[match[1] as JobPriority] = Number(match[2]);
  }
  if (Object.keys(slots).length === 0) {
    ctx.addIssue({ code: 'custom', message: 'names no queue' });
    return z.NEVER;
  }
  return slots;
});

const TenantName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a tenant is 1–64 characters of [A-Za-z0-9_-]');
const ApiKey = z
  .string()
  .min(16, 'an API key has at least 16 characters')
  .max(256)
  .regex(/^[\x21-\x7e]+$/, 'an API key is printable ASCII without spaces');

/** `tenant:key,tenant:key`. */
const ApiKeyList = z.string().transform((text, ctx) =>
  commaItems(text).map((item) => {
    const at = item.indexOf(':');
    const tenant = TenantName.safeParse(item.slice(0, at));
    const key = ApiKey.safeParse(item.slice(at + 1));
    if (at < 1 || !tenant.success || !key.success) {
      ctx.addIssue({
        code: 'custom',
        message: `an entry is not <tenant>:<key> (${tenant.error?.issues[0]?.message ?? key.error?.issues[0]?.message ?? 'no colon'})`,
      });
      return { tenant: '', key: '' };
    }
    return { tenant: tenant.data, key: key.data };
  }),
);

/** A key of 32 bytes as 64 hex digits or as base64 (`openssl rand -base64 32`): payload encryption's, the cursors'. */
const PayloadKey = z
  .string()
  .trim()
  .transform((text, ctx) => {
    const bytes = /^[0-9a-f]{64}$/i.test(text)
      ? Buffer.from(text, 'hex')
      : /^[A-Za-z0-9+/]{43}=?$/.test(text)
        ? Buffer.from(text, 'base64')
        : undefined;
    if (bytes?.length !== 32) {
      ctx.addIssue({ code: 'custom', message: 'is not 32 bytes as 64 hex digits or base64 (openssl rand -base64 32)' });
      return z.NEVER;
    }
    return bytes;
  });

/** JSON `{ "tenant": ["key", …] }`. */
const ApiKeysFileContent = z.record(TenantName, z.array(ApiKey).min(1));

/** An issue's message; a record's bad key says only "Invalid key in record", so its key schema's message instead. */
function issueMessage(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
}

/** A host as CALLBACK_ALLOW_HOSTS and the checks compare it: the URL's hostname, without a trailing dot. */
export function hostKey(hostname: string): string {
  return hostname.toLowerCase().replace(/\.$/, '');
}

/**
 * One CALLBACK_ALLOW_HOSTS entry, `host:port` (`[v6]:port` for IPv6), normalised as URLs are
 * (`127.1:8443` is `127.0.0.1:8443`); undefined when it is not that.
 */
export function parseAllowEntry(entry: string): string | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s:/?#@[\]\\]+):(\d{1,5})$/.exec(entry.trim());
  if (!match || Number(match[2]) < 1 || Number(match[2]) > 65_535) return undefined;
  try {
    return `${hostKey(new URL(`http://${match[1]}`).hostname)}:${Number(match[2])}`;
  } catch {
    return undefined;
  }
}

/** One name of API_ALLOW_HOSTS as the Host check compares it (hostKey): labels of letters, digits, `-` and `_`. */
const allowedHostName =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** A week: long enough to look into last week's failures, short enough that Temporal's store stays small. */
export const defaultJobRetentionHours = 168;

/** Every environment variable the service reads (contract §4), parsed once at start-up. */
export const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  /** The address the API (and a worker's metrics) listen on; see `listenHost`. */
  HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]{1,253}$/, 'must be an IP address or a host name')
    .optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** By default the local dev server's UI, on TEMPORAL_DEV_UI_PORT (8233). */
  TEMPORAL_UI_URL: z
    .url()
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
  /**
   * A trace viewer's address of one trace, `{traceId}` standing for the trace id (Jaeger
   * `http://localhost:16686/trace/{traceId}`, a Grafana Tempo explore URL): each job in a trace links to it.
   */
  TRACE_UI_URL: z
    .string()
    .refine((text) => /^https?:\/\/[^\s]+$/i.test(text) && URL.canParse(text), 'must be an http(s) URL')
    .refine(
      (text) => text.includes('{traceId}'),
      'must hold {traceId} where the trace id goes, e.g. http://localhost:16686/trace/{traceId}',
    )
    .optional(),
  JOBS_TASK_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be 1–100 characters of [A-Za-z0-9._-]')
    .default('jobs'),
  JOBS_COMMANDS_DIR: z.string().min(1).default('./jobs/commands'),
  /** The user (and its group) commands run as when the worker runs as root. */
  JOBS_COMMAND_USER: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a user name or uid')
    .default('nobody'),
  /** CPU seconds each process of a command may use (RLIMIT_CPU): SIGXCPU, then SIGKILL 5 s later. */
  JOBS_COMMAND_CPU_SECONDS: z.coerce.number().int().min(1).default(600),
  /** Address space of each process of a command (RLIMIT_AS); node, python3 and bash start under 1 GiB. */
  JOBS_COMMAND_MEMORY_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024 * 1024)
    .default(2 * 1024 * 1024 * 1024),
  /** Processes and threads of JOBS_COMMAND_USER at once, all its commands together, or of one attempt with JOBS_COMMAND_UIDS (RLIMIT_NPROC; only when the worker is root). */
  JOBS_COMMAND_MAX_PROCESSES: z.coerce.number().int().min(1).default(256),
  /** Open files of each process of a command (RLIMIT_NOFILE). */
  JOBS_COMMAND_MAX_OPEN_FILES: z.coerce.number().int().min(16).default(1024),
  /** `none`: each attempt gets a network namespace of its own with only a down loopback; `host`: the worker's network (root workers with namespaces only). */
  JOBS_COMMAND_NETWORK: z.enum(['none', 'host']).default('none'),
  /** `first-last`: each attempt runs as a uid of its own from this range (gid the same number), not JOBS_COMMAND_USER (root workers only). */
  JOBS_COMMAND_UIDS: z
    .string()
    .regex(/^\d{1,10}-\d{1,10}$/, 'must be <first uid>-<last uid>')
    .transform((text) => {
      const [first, last] = text.split('-').map(Number) as [number, number];
      return { first, last };
    })
    .refine(
      ({ first, last }) => first >= 1000 && first <= last && last < 4_294_967_295,
      'must be first ≤ last, from 1000 to 4294967294',
    )
    .optional(),
  /** Size of the private /tmp (also /var/tmp and /dev/shm) of each attempt (a tmpfs; root workers with namespaces only). */
  JOBS_COMMAND_TMP_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .default(256 * 1024 * 1024),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  WORKER_QUEUES: z.string().default('high:20,normal:10,low:5').pipe(QueueSlots),
  /** The most job workflows the worker keeps in memory between their tasks; past it they replay (a few ms each). */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(10).max(100_000).default(50),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  /** What the API keeps of jobs' reads (polled states, finished jobs' final states), in bytes; past it the least recently used go. */
  JOBS_READ_CACHE_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .default(32 * 1024 * 1024),
  /**
   * How long one read of the job type registry answers the API process's requests (types, input checks, defaults):
   * a worker's new or changed declaration reaches submits within about this long.
   */
  JOBS_TYPE_REGISTRY_CACHE_MS: z.coerce.number().int().min(250).max(60_000).default(1500),
  /**
   * The workflow version every worker that runs job workflows has at least (src/workflows/version.ts). Set, the API
   * writes it into each request (never above its own), and runs take the changes up to it without `patched()`: two
   * history events fewer per job. Unset, requests carry none and runs ask `patched()`. Raise it only once every
   * worker runs that version, and roll no worker back below it while jobs it stamped are open: a run's commands
   * would differ on replay. `npm start` sets it, as its API and worker run one tree.
   */
  JOBS_WORKFLOW_VERSION: z.coerce.number().int().min(4).optional(),
  /** Event streams (GET /api/v1/jobs/{jobId}/events) one tenant may hold open on one API process; 429 beyond. */
  JOBS_MAX_STREAMS_PER_TENANT: z.coerce.number().int().min(1).max(100_000).default(100),
  /** Submits with `?wait` one tenant may hold waiting at once on one API process; 429 beyond, before anything is made. */
  JOBS_MAX_WAITS_PER_TENANT: z.coerce.number().int().min(1).max(100_000).default(100),
  API_KEYS: ApiKeyList.optional(),
  API_KEYS_FILE: z.string().min(1).optional(),
  RATE_LIMIT_SUBMITS_PER_SEC: z.coerce.number().positive().max(1_000_000).optional(),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).optional(),
  MAX_UNFINISHED_JOBS_PER_TENANT: z.coerce.number().int().min(1).optional(),
  /** The shortest interval a schedule may have; a cron may not fire more often either. */
  SCHEDULE_MIN_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(10),
  MAX_SCHEDULES_PER_TENANT: z.coerce.number().int().min(1).max(100_000).default(100),
  CALLBACK_SECRET: z.string().min(16, 'must have at least 16 characters').optional(),
  /** `host:port,…`: the only callback targets reachable over plain http or on a non-public address. */
  CALLBACK_ALLOW_HOSTS: commaList(
    parseAllowEntry,
    (item) => `"${item}" is not host:port (an entry names one host and one port, e.g. 127.0.0.1:8443 or [::1]:8443)`,
  ).optional(),
  /**
   * `name,name`, or `*` for any: the names an API without keys answers to besides localhost, `*.localhost`, IP
   * addresses and HOST (src/api/allowed-hosts.ts). Unused once API keys are configured.
   */
  API_ALLOW_HOSTS: commaList(
    (item) => {
      const name = hostKey(item);
      return name === '*' || allowedHostName.test(name) ? name : undefined;
    },
    (item) =>
      `"${item}" is not a host name: give the name alone, without scheme or port (e.g. jobs.internal), or * for any`,
  ).optional(),
  /** PEM file of CA certificates the worker trusts for callback receivers, besides the system's (a private CA). */
  CALLBACK_CA_FILE: z.string().min(1).optional(),
  /** Encrypts every payload the API and the workers write to Temporal (AES-256-GCM); unset: payloads are plain JSON. */
  PAYLOAD_ENCRYPTION_KEY: PayloadKey.optional(),
  /** Earlier keys, comma-separated: payloads written with them are still read (rotation). */
  PAYLOAD_DECRYPTION_KEYS: z.string().transform(commaItems).pipe(z.array(PayloadKey)).optional(),
  /** Signs list cursors (HMAC-SHA256); the same on every API process behind one address. Unset: a key per process. */
  JOBS_CURSOR_KEY: PayloadKey.optional(),
  /** Tenants, comma-separated, that may call the codec endpoint (it decrypts any tenant's payloads) while API keys are configured; default none. */
  CODEC_TENANTS: z.string().transform(commaItems).pipe(z.array(TenantName)).default([]),
  WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65_535).optional(),
  /** The worker's job metrics (jobs finished, durations, callback deliveries) in Prometheus form on this port. */
  WORKER_JOB_METRICS_PORT: z.coerce.number().int().min(1).max(65_535).optional(),
  /** Where the worker loads its workflow bundles from, written at build time (`npm run build:workflows`). */
  WORKFLOW_BUNDLE_DIR: z.string().min(1).default('dist/workflow-bundles'),
  /**
   * How long Temporal keeps a finished job (its history, result and visibility row) before deleting it: applied to the
   * namespace by `npm start`, `npm run cluster` and compose's temporal-namespace (src/temporal/namespace.ts).
   */
  JOB_RETENTION_HOURS: z.coerce.number().int().min(1).max(87_600).default(defaultJobRetentionHours),
  TEMPORAL_DEV_PORT: z.coerce.number().int().min(1).max(65_535).default(7233),
  TEMPORAL_DEV_UI_PORT: z.coerce.number().int().min(1).max(65_535).default(8233),
  TEMPORAL_DEV_DB_FILE: z.string().min(1).default('.data/temporal.sqlite'),
});
export interface TenantKey {
  readonly tenant: string;
  readonly key: string;
}

export type Config = Omit<z.infer<typeof Env>, 'TEMPORAL_UI_URL'> & {
  TEMPORAL_UI_URL: string;
  temporalAddress: string;
  /** From API_KEYS and API_KEYS_FILE; empty means the API is open and every job is tenant `default`'s. */
  apiKeys: readonly TenantKey[];
  /** HOST, or by default loopback only while the API is open (no keys) and every interface once keys guard it. */
  listenHost: string;
};

/** Thrown by loadConfig when an environment variable has a bad value; the message names each one. */
export class ConfigInvalidError extends Error {
  override readonly name = 'ConfigInvalidError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigInvalidError(`invalid configuration: ${problems.join('; ')}`);
  }
  if (parsed.data.PAYLOAD_DECRYPTION_KEYS && !parsed.data.PAYLOAD_ENCRYPTION_KEY) {
    throw new ConfigInvalidError(
      'invalid configuration: PAYLOAD_DECRYPTION_KEYS: needs PAYLOAD_ENCRYPTION_KEY, the key new payloads are written with',
    );
  }
  const apiKeys = [...(parsed.data.API_KEYS ?? []), ...readApiKeysFile(parsed.data.API_KEYS_FILE)];
  const seen = new Set<string>();
  for (const { key } of apiKeys) {
    if (seen.has(key))
      throw new ConfigInvalidError('invalid configuration: API_KEYS / API_KEYS_FILE: the same key is given twice');
    seen.add(key);
  }
  return {
    ...parsed.data,
    TEMPORAL_UI_URL: parsed.data.TEMPORAL_UI_URL ?? `http://localhost:${parsed.data.TEMPORAL_DEV_UI_PORT}`,
    temporalAddress: parsed.data.TEMPORAL_ADDRESS ?? 'localhost:7233',
    apiKeys,
    listenHost: parsed.data.HOST ?? (apiKeys.length === 0 ? '127.0.0.1' : '0.0.0.0'),
  };
}

function readApiKeysFile(path: string | undefined): TenantKey[] {
  if (!path) return [];
  let content: unknown;
  try {
    content = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigInvalidError(
      `invalid configuration: API_KEYS_FILE: cannot read ${path} as JSON (${(err as Error).message})`,
    );
  }
  const parsed = ApiKeysFileContent.safeParse(content);
  if (!parsed.success) {
    throw new ConfigInvalidError(
      `invalid configuration: API_KEYS_FILE: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issueMessage(issue)}`).join('; ')}`,
    );
  }
  return Object.entries(parsed.data).flatMap(([tenant, keys]) => keys.map((key) => ({ tenant, key })));
}
