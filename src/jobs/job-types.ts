// The job types as the API knows them: read from the job type registry workflow (docs/worker-protocol.md), cached
// briefly and shared by every request of the process, each type's input checked against its declared JSON Schema.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import {
  registryWorkflowId,
  type JobTypeDeclaration,
  type JobTypeDefaults,
  type JobTypeView,
  type RegistryState,
} from '../contract/job-type-declaration.js';
import { registryStateQuery } from '../workflows/job-type-registry-messages.js';
import { jobTypeViews } from '../workflows/job-type-registry-state.js';
import { ApiError, TemporalUnavailableError } from './errors.js';
import type { TemporalReachability } from './reachability.js';
import { didYouMean, listedMaxNames, listOf, pathKey, quoted } from './suggest.js';

/** One problem of a request, as the API's 400 lists them. */
export interface RequestProblem {
  readonly path: string;
  readonly message: string;
}

/** A job type the registry knows, with its input check. */
export interface KnownJobType {
  readonly view: JobTypeView;
  /** The input with its schema's `default`s filled in (a copy), or what is wrong with it, paths from the input. */
  check(input: unknown): { readonly input: unknown } | { readonly problems: readonly RequestProblem[] };
}

/** A type not in the registry makes the API read it again when the last read is older than this. */
const recheckAfterMs = 250;
const queryDeadlineMs = 3000;
/** A read this recent is served while the next one runs; an older one only while the registry cannot be read. */
const serveStaleMs = 5000;

/** Keywords whose error alone says too little: the failing schema's description goes beside it. */
const describedKeywords = new Set(['pattern', 'format', 'not', 'additionalProperties', 'propertyNames', 'enum']);

function problemOf(error: ErrorObject): RequestProblem {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
  // ajv says "must match pattern …" where the schema's description says what the pattern is for.
  const parent = error.parentSchema as { description?: unknown } | undefined;
  const why =
    describedKeywords.has(error.keyword) && typeof parent?.description === 'string' ? ` (${parent.description})` : '';
  const at = (...more: string[]): string => ['input', ...path, ...more].join('.');
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: at(String(params['missingProperty'])), message: 'is required' };
    case 'additionalProperties': {
      // Named in the message too: a key may differ from a known one only by its case or a space.
      const key = String(params['additionalProperty']);
      const declared = (error.parentSchema as { properties?: unknown } | undefined)?.properties;
      const known = declared && typeof declared === 'object' ? Object.keys(declared) : [];
      return { path: at(pathKey(key)), message: `unknown field ${quoted(key)}${why}${didYouMean(key, known)}` };
    }
    case 'enum': {
      const allowed = params['allowedValues'] as unknown[];
      const names = allowed.filter((value): value is string => typeof value === 'string');
      const near = typeof error.data === 'string' ? didYouMean(error.data, names) : '';
      return {
        path: at(),
        message: `must be one of: ${listOf(allowed.map((value) => JSON.stringify(value)))}${why}${near}`,
      };
    }
    default:
      return { path: at(), message: `${error.message ?? 'is invalid'}${why}` };
  }
}

/** ajv's errors as the API's problems: the combinators' own ("must match then schema") add nothing to their causes'. */
export function problemsOf(errors: readonly ErrorObject[]): RequestProblem[] {
  // An unknown field first: "second" is the cause of "seconds is required" beside it, and its problem says so.
  const problems = errors
    .filter((error) => !['if', 'allOf', 'anyOf', 'oneOf'].includes(error.keyword))
    .sort((a, b) => Number(b.keyword === 'additionalProperties') - Number(a.keyword === 'additionalProperties'))
    .map(problemOf);
  const seen = new Set<string>();
  return problems
    .filter((problem) => {
      const key = `${problem.path}\n${problem.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, listedMaxNames);
}

/** The defaults of a job of this type with this input: the declaration's, then its first `defaultsWhen` case that fits. */
export function defaultsFor(declaration: JobTypeDeclaration, input: unknown): JobTypeDefaults {
  const fields = input !== null && typeof input === 'object' ? (input as Record<string, unknown>) : {};
  const found = declaration.defaultsWhen?.find(
    ({ field, equals }) => Object.hasOwn(fields, field) && fields[field] === equals,
  );
  if (!found) return declaration.defaults;
  const { retry, ...rest } = found.defaults;
  return { ...declaration.defaults, ...rest, retry: { ...declaration.defaults.retry, ...retry } };
}

/** Thrown when the job type registry cannot be read and no earlier read is at hand. */
export class JobTypeRegistryUnavailableError extends ApiError {
  override readonly name = 'JobTypeRegistryUnavailableError';
  constructor(cause: unknown) {
    super(
      'unavailable',
      "the job type registry cannot be read (is the service's worker running?); try again shortly",
      undefined,
      { cause, headers: { 'Retry-After': '5' } },
    );
  }
}

/**
 * The registry's job types for this process: one query serves every request for a second or two, and a read that
 * fails (the service's worker is down, so the registry's workflow cannot answer) leaves the last one in use.
 */
export class RegisteredJobTypes {
  private cached: { readonly state: RegistryState | null; readonly at: number } | undefined;
  private reading: Promise<RegistryState | null> | undefined;
  private failedAt: number | undefined;
  private readonly checks = new InputChecks();

  constructor(
    private readonly client: Client,
    private readonly taskQueuePrefix: string,
    private readonly reachability: TemporalReachability,
    /** How long a read of the registry serves requests (JOBS_TYPE_REGISTRY_CACHE_MS); an older one is still served while a new one is read. */
    private readonly freshForMs = 1500,
    private readonly now: () => number = Date.now,
  ) {}

  private async query(): Promise<RegistryState | null> {
    try {
      return await this.client.connection.withDeadline(this.now() + queryDeadlineMs, () =>
        this.client.workflow.getHandle(registryWorkflowId(this.taskQueuePrefix)).query(registryStateQuery),
      );
    } catch (err) {
      // No worker has declared anything yet.
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  private read(): Promise<RegistryState | null> {
    this.reading ??= this.query()
      .then(
        (state) => {
          this.cached = { state, at: this.now() };
          this.checks.keepOnly(new Set(Object.keys(state?.types ?? {})));
          this.failedAt = undefined;
          return state;
        },
        (err: unknown) => {
          this.failedAt = this.now();
          throw err;
        },
      )
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  /** The registry's state no older than `maxAgeMs` when it can be read, else the last one read. */
  private async state(maxAgeMs: number): Promise<RegistryState | null> {
    const cached = this.cached;
    const now = this.now();
    if (cached && now - cached.at <= maxAgeMs) return cached.state;
    // A recent read, or one the registry could not answer lately, is served while a new read runs: a registry that
    // cannot answer (the service's worker is down) must not hold every submit up. An older one would mislead.
    const recentlyFailed = this.failedAt !== undefined && now - this.failedAt < serveStaleMs;
    if (cached && maxAgeMs >= this.freshForMs && (now - cached.at <= serveStaleMs || recentlyFailed)) {
      this.read().catch(() => undefined);
      return cached.state;
    }
    try {
      return await this.read();
    } catch (err) {
      if (!cached) throw new JobTypeRegistryUnavailableError(err);
      // The last read serves while the registry's worker is down. A Temporal that answers nothing would fail the call
      // this read is for as well, after a deadline of its own: a client would wait for both.
      const unanswered = await this.reachability.unanswered();
      if (unanswered !== undefined) throw new TemporalUnavailableError(unanswered);
      return cached.state;
    }
  }

  /** Every known type, sorted by name, with its live workers per priority. */
  async all(): Promise<JobTypeView[]> {
    const state = await this.state(this.freshForMs);
    return state ? jobTypeViews(state, this.now()) : [];
  }

  /** The type of this name; a name not known reads the registry again unless it was read a moment ago. */
  async find(name: string): Promise<KnownJobType | undefined> {
    let view = (await this.all()).find((known) => known.declaration.name === name);
    if (!view) {
      const state = await this.state(recheckAfterMs);
      view = state ? jobTypeViews(state, this.now()).find((known) => known.declaration.name === name) : undefined;
    }
    return view && this.checks.of(view);
  }
}

/**
 * A copy of JSON data's objects and arrays, for ajv to fill defaults into. Strings and other leaves are shared, as
 * they cannot change: a structuredClone copied a half-megabyte input's strings too.
 */
function copyStructure(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyStructure);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, member]) => [key, copyStructure(member)]));
}

/** A type's compiled input check, and the schema objects it was compiled from and last seen equal to. */
interface CompiledCheck {
  readonly compiled: object;
  readonly json: string;
  seen: object;
  readonly validate: ValidateFunction | Error;
}

/**
 * Each type's input check (ajv, draft 2020-12, with formats), compiled once per schema. Only the newest schema's is
 * kept: an API that lives through many upgrades keeps one check per type. A schema is known by its content, not the
 * registry's revision, which starts again at 1 if the registry does. Schemas are not added to ajv by their `$id`, so
 * two types, or two versions of one, may share one.
 */
export class InputChecks {
  private readonly ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    useDefaults: true,
    verbose: true,
    addUsedSchema: false,
  });
  private readonly checks = new Map<string, CompiledCheck>();

  constructor() {
    addFormats.default(this.ajv);
  }

  /** How many checks are compiled now. */
  get size(): number {
    return this.checks.size;
  }

  /** Drops the checks of types the registry no longer knows (it lets go of types no live worker serves). */
  keepOnly(names: ReadonlySet<string>): void {
    for (const [name, known] of this.checks) {
      if (names.has(name)) continue;
      this.ajv.removeSchema(known.compiled);
      this.checks.delete(name);
    }
  }

  of(view: JobTypeView): KnownJobType {
    const validate = this.validatorOf(view.declaration);
    return {
      view,
      check: (input) => {
        if (validate instanceof Error)
          return {
            problems: [{ path: 'type', message: `its declared input schema is not usable: ${validate.message}` }],
          };
        // ajv fills the schema's defaults in: into a copy, the caller's body stays as sent.
        const copy = copyStructure(input);
        return validate(copy) ? { input: copy } : { problems: problemsOf(validate.errors ?? []) };
      },
    };
  }

  private validatorOf({ name, inputSchema }: JobTypeDeclaration): ValidateFunction | Error {
    const known = this.checks.get(name);
    if (known?.seen === inputSchema) return known.validate;
    // A registry read gives new objects: compared by content once per read.
    const json = JSON.stringify(inputSchema);
    if (known?.json === json) {
      known.seen = inputSchema;
      return known.validate;
    }
    if (known) this.ajv.removeSchema(known.compiled);
    let validate: ValidateFunction | Error;
    try {
      validate = this.ajv.compile(inputSchema);
    } catch (err) {
      validate = err as Error;
    }
    this.checks.set(name, { compiled: inputSchema, json, seen: inputSchema, validate });
    return validate;
  }
}

/**
 * Job types from declarations at hand instead of the registry (tools and tests that run no registry), each as if
 * one worker served it at every priority: what RequestSettings takes.
 */
export function declaredJobTypes(declarations: readonly JobTypeDeclaration[]): {
  findJobType: (name: string) => Promise<KnownJobType | undefined>;
  jobTypeNames: () => Promise<string[]>;
} {
  const checks = new InputChecks();
  const views = declarations.map((declaration): JobTypeView => ({
    declaration,
    revision: 1,
    workers: { high: 1, normal: 1, low: 1 },
    liveVariants: 1,
  }));
  return {
    findJobType: (name) =>
      Promise.resolve(views.find((view) => view.declaration.name === name)).then((view) => view && checks.of(view)),
    jobTypeNames: () => Promise.resolve(views.map((view) => view.declaration.name)),
  };
}
