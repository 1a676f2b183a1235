// The job type registry's state and its transitions, as pure functions: the registry workflow keeps it, the API
// reads it through the registryState query and judges liveness with its own clock (a query answers with the
// workflow's time of its last task, which may be long past).
import type {
  DeclareWorker,
  DeclareWorkerResult,
  JobTypeVariant,
  JobTypeView,
  RegistryState,
  RenewLeaseResult,
  WorkerLease,
} from '../contract/job-type-declaration.js';
import { jobPriorities, registryMaxBytes, type Priority } from '../contract/protocol-names.js';
import { jsonBytes, kib } from '../contract/json-size.js';

/** The failure type of a declaration the registry has no room for, even without the types no live worker serves. */
export const registryFullErrorType = 'JobTypeRegistryFull';

/** What the state takes as its query answer's JSON. */
export function registryStateBytes(state: RegistryState): number {
  return jsonBytes(state);
}

export function emptyRegistry(): RegistryState {
  return { nextRevision: 1, types: {}, workers: {} };
}

/** JSON with object keys sorted, so two declarations that differ only in key order compare equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function isLive(lease: WorkerLease, nowMs: number): boolean {
  return Date.parse(lease.expiresAt) > nowMs;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function liveWorkers(state: RegistryState, nowMs: number): [string, WorkerLease][] {
  return Object.entries(state.workers).filter(([, lease]) => isLive(lease, nowMs));
}

/**
 * Drops expired workers, then the variants no live worker declares, except each type's newest: a type stays known
 * (with no workers) once declared, so its jobs are accepted and wait `queued` until a worker comes back.
 */
export function pruneExpired(state: RegistryState, nowMs: number): RegistryState {
  const workers = Object.fromEntries(liveWorkers(state, nowMs));
  const declared = new Set(Object.values(workers).flatMap((lease) => Object.entries(lease.types).map(String)));
  const types = Object.fromEntries(
    Object.entries(state.types).map(([name, variants]) => {
      const newest = Math.max(...variants.map((variant) => variant.revision));
      return [
        name,
        variants.filter((variant) => variant.revision === newest || declared.has(`${name},${variant.revision}`)),
      ];
    }),
  );
  return { ...state, types, workers };
}

/**
 * A worker's declaration: each type's variant is found by its canonical JSON or added as the newest revision, and
 * the worker's lease (re)starts. A differing declaration never fails: during a rolling upgrade old and new workers
 * are both live, and the newest variant is the one the API validates against (see jobTypeViews).
 */
export function declareWorker(
  previous: RegistryState,
  declaration: DeclareWorker,
  nowMs: number,
): { state: RegistryState; result: DeclareWorkerResult } {
  const state = pruneExpired(previous, nowMs);
  let nextRevision = state.nextRevision;
  const types = { ...state.types };
  const declaredTypes: Record<string, number> = {};
  for (const jobType of declaration.jobTypes) {
    const variants = types[jobType.name] ?? [];
    const json = canonicalJson(jobType);
    let variant = variants.find((known) => canonicalJson(known.declaration) === json);
    if (!variant) {
      variant = { revision: nextRevision++, declaration: jobType, declaredAt: iso(nowMs) };
      types[jobType.name] = [...variants, variant];
    }
    declaredTypes[jobType.name] = variant.revision;
  }
  const differing = Object.entries(declaredTypes).flatMap(([name, revision]) => {
    const otherWorkers = liveWorkers(state, nowMs).filter(
      ([workerId, lease]) =>
        workerId !== declaration.workerId && lease.types[name] !== undefined && lease.types[name] !== revision,
    ).length;
    return otherWorkers > 0 ? [{ name, otherWorkers }] : [];
  });
  const expiresAt = iso(nowMs + declaration.leaseSeconds * 1000);
  const lease: WorkerLease = {
    identity: declaration.identity,
    queues: declaration.queues,
    types: declaredTypes,
    leaseSeconds: declaration.leaseSeconds,
    declaredAt: iso(nowMs),
    expiresAt,
  };
  // Re-pruned: a worker that declares again may leave a variant behind.
  const next = pruneExpired(
    { nextRevision, types, workers: { ...state.workers, [declaration.workerId]: lease } },
    nowMs,
  );
  return { state: withinBudget(next), result: { leaseExpiresAt: expiresAt, differing } };
}

/**
 * The state past `registryMaxBytes` without the types no live worker serves, the longest undeclared first, until
 * it fits: a worker fleet renaming its types over months would otherwise fill the registry for good.
 */
function withinBudget(state: RegistryState): RegistryState {
  let bytes = registryStateBytes(state);
  if (bytes <= registryMaxBytes) return state;
  const served = new Set(Object.values(state.workers).flatMap((lease) => Object.keys(lease.types)));
  const unserved = Object.entries(state.types)
    .filter(([name]) => !served.has(name))
    .map(([name, variants]) => ({
      name,
      lastDeclaredAt: variants.reduce((last, variant) => (variant.declaredAt > last ? variant.declaredAt : last), ''),
      // `"name":[…],`
      bytes: jsonBytes(name) + jsonBytes(variants) + 2,
    }))
    .sort((a, b) => (a.lastDeclaredAt < b.lastDeclaredAt ? -1 : a.lastDeclaredAt > b.lastDeclaredAt ? 1 : 0));
  const dropped = new Set<string>();
  for (const type of unserved) {
    if (bytes <= registryMaxBytes) break;
    dropped.add(type.name);
    bytes -= type.bytes;
  }
  return { ...state, types: Object.fromEntries(Object.entries(state.types).filter(([name]) => !dropped.has(name))) };
}

/**
 * Why the registry cannot take `declaration`: with it, and without the types no live worker serves, its state would
 * pass `registryMaxBytes`. Undefined when it can.
 */
export function noRoomFor(state: RegistryState, declaration: DeclareWorker, nowMs: number): string | undefined {
  const bytes = registryStateBytes(declareWorker(state, declaration, nowMs).state);
  if (bytes <= registryMaxBytes) return undefined;
  const own = jsonBytes(declaration.jobTypes);
  return (
    `the job type registry holds at most ${kib(registryMaxBytes)} of declarations and live workers (as JSON), ` +
    `and with this worker's it would hold ${kib(bytes)} (its ${declaration.jobTypes.length} types take ${kib(own)}): ` +
    'declare fewer types or smaller schemas, or stop the workers of types no longer used'
  );
}

/** Whether a renewal can be taken: the worker is known and its lease has not run out (else it must declare again). */
export function canRenew(state: RegistryState, workerId: string, nowMs: number): boolean {
  const lease = state.workers[workerId];
  return lease !== undefined && isLive(lease, nowMs);
}

export function renewLease(
  state: RegistryState,
  workerId: string,
  nowMs: number,
): { state: RegistryState; result: RenewLeaseResult } {
  const lease = state.workers[workerId]!;
  const expiresAt = iso(nowMs + lease.leaseSeconds * 1000);
  return {
    state: pruneExpired({ ...state, workers: { ...state.workers, [workerId]: { ...lease, expiresAt } } }, nowMs),
    result: { leaseExpiresAt: expiresAt },
  };
}

/** A worker shutting down gracefully stops being counted at once rather than when its lease runs out. */
export function leave(state: RegistryState, workerId: string, nowMs: number): RegistryState {
  const { [workerId]: _gone, ...workers } = state.workers;
  return pruneExpired({ ...state, workers }, nowMs);
}

/**
 * Every known type as the API serves it at `nowMs`: the declaration in force is the newest variant that a live
 * worker declares (the newest overall when none is live), so a rolled-back canary stops counting as soon as its
 * workers are gone; per priority, the live worker processes that poll the type's queue.
 */
export function jobTypeViews(state: RegistryState, nowMs: number): JobTypeView[] {
  const live = liveWorkers(state, nowMs).map(([, lease]) => lease);
  return Object.entries(state.types)
    .filter(([, variants]) => variants.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, variants]) => {
      const serving = live.filter((lease) => lease.types[name] !== undefined);
      const liveRevisions = new Set(serving.map((lease) => lease.types[name]!));
      const candidates = variants.filter((variant) => liveRevisions.has(variant.revision));
      const inForce = newestOf(candidates.length > 0 ? candidates : variants);
      const workers = Object.fromEntries(
        jobPriorities.map((priority) => [
          priority,
          serving.filter((lease) => (lease.queues[priority] ?? 0) > 0).length,
        ]),
      ) as Record<Priority, number>;
      return { declaration: inForce.declaration, revision: inForce.revision, workers, liveVariants: candidates.length };
    });
}

function newestOf(variants: readonly JobTypeVariant[]): JobTypeVariant {
  return variants.reduce((newest, variant) => (variant.revision > newest.revision ? variant : newest));
}
