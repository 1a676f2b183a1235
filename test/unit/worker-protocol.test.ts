// The pure parts of the worker protocol (docs/worker-protocol.md): names, task queues, declarations from zod, and the
// SDK's payload codec against the service's.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import { JobPriority } from '../../src/contract/job.js';
import {
  jobPriorities,
  jobTypeTaskQueue,
  JobTypeName,
  registryMaxBytes,
  registryTaskQueue,
  registryWorkflowId,
  workerProtocolVersion,
  type DeclareWorker,
} from '../../src/contract/job-type-declaration.js';
import { PayloadEncryptionCodec as ServiceCodec } from '../../src/temporal/payload-codec.js';
import { taskQueueFor, workflowTaskQueueFor } from '../../src/workflows/task-queues.js';
import {
  canonicalJson,
  declareWorker,
  emptyRegistry,
  noRoomFor,
  registryStateBytes,
} from '../../src/workflows/job-type-registry-state.js';
import { defineJobType, JobTypeDefinitionError } from '../../packages/worker/src/job-type.js';
import { PayloadEncryptionCodec as SdkCodec, parsePayloadKey } from '../../packages/worker/src/payload-codec.js';

describe('The worker protocol', function () {
  it('names the priorities as the REST contract does', function () {
    assert.deepEqual([...jobPriorities], JobPriority.options);
  });

  const names: [name: string, valid: boolean][] = [
    ['sleep', true],
    ['primes', true],
    ['billing.send-invoice_v2', true],
    ['a', true],
    ['a'.repeat(64), true],
    ['a'.repeat(65), false],
    ['Primes', false],
    ['2fa', false],
    ['-x', false],
    ['a:b', false],
    ['a/b', false],
    ['a b', false],
    ['', false],
  ];
  for (const [name, valid] of names) {
    it(`job type name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)} is ${valid ? 'valid' : 'refused'}`, function () {
      assert.equal(JobTypeName.safeParse(name).success, valid);
    });
  }

  it('gives each (type, priority) its own task queue, apart from the priority queues and the workflows queue', function () {
    assert.equal(jobTypeTaskQueue('jobs', 'primes', 'high'), 'jobs:primes:high');
    const types = ['primes', 'primes-high', 'high', 'a.b', 'a-b', 'workflows'];
    const queues = types.flatMap((type) => jobPriorities.map((priority) => jobTypeTaskQueue('jobs', type, priority)));
    assert.equal(new Set(queues).size, queues.length, 'no two pairs share a queue');
    const serviceQueues = [
      ...jobPriorities.map((priority) => taskQueueFor('jobs', priority)),
      workflowTaskQueueFor('jobs'),
    ];
    assert.deepEqual(
      queues.filter((queue) => serviceQueues.includes(queue)),
      [],
    );
    assert.equal(registryTaskQueue('jobs'), workflowTaskQueueFor('jobs'), 'the registry runs beside the job workflows');
    assert.equal(registryWorkflowId('jobs'), 'jobs#job-type-registry');
  });

  it('compares declarations by their canonical JSON, whatever their key order', function () {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: null }] }), canonicalJson({ a: [{ c: null, d: 2 }], b: 1 }));
    assert.notEqual(canonicalJson({ a: [1, 2] }), canonicalJson({ a: [2, 1] }));
  });
});

describe("The job type registry's state stays within its byte budget", function () {
  /** Worker `workerId` declaring 10 types `<workerId>-<n>` of 32 KiB schemas each: about 330 KiB. */
  const bulky = (workerId: string): DeclareWorker => ({
    protocolVersion: workerProtocolVersion,
    workerId,
    identity: workerId,
    jobTypes: Array.from({ length: 10 }, (_, index) => ({
      name: `${workerId}-${index}`,
      description: '',
      inputSchema: { description: 'é'.repeat(16 * 1024) },
      resultSchema: null,
      defaults: {
        timeoutSeconds: 60,
        heartbeatTimeoutSeconds: 10,
        retry: { maxAttempts: 1, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 1 },
      },
    })),
    queues: { normal: 1 },
    leaseSeconds: 10,
  });
  /** How many types of each worker's the registry keeps. */
  const groupsOf = (types: object): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const name of Object.keys(types)) counts[name.split('-')[0]!] = (counts[name.split('-')[0]!] ?? 0) + 1;
    return counts;
  };

  it('counts UTF-8 bytes, drops the longest unserved types first, and has no room for a worker past it', function () {
    let state = emptyRegistry();
    let now = 0;
    for (const workerId of ['a', 'b', 'c']) state = declareWorker(state, bulky(workerId), (now += 1000)).state;
    assert.match(noRoomFor(state, bulky('d'), now) ?? '', /at most 1024 KiB.*would hold 12\d\d KiB/);
    // a's lease runs out (10 s), b's and c's are renewed by declaring again: a's types go, the others stay.
    now += 9_500;
    state = declareWorker(state, bulky('b'), now).state;
    state = declareWorker(state, bulky('c'), now).state;
    now += 1000;
    assert.equal(noRoomFor(state, bulky('d'), now), undefined);
    state = declareWorker(state, bulky('d'), now).state;
    // Only as many of a's as make room.
    assert.deepEqual(groupsOf(state.types), { a: 1, b: 10, c: 10, d: 10 });
    assert.ok(registryStateBytes(state) <= registryMaxBytes);
    assert.equal(registryStateBytes(state), Buffer.byteLength(JSON.stringify(state)));
  });
});

describe('defineJobType', function () {
  const run = () => Promise.resolve({});

  it('declares a zod input as JSON Schema draft 2020-12, with the protocol defaults under its own', function () {
    const primes = defineJobType({
      name: 'primes',
      description: 'Counts the primes below a bound.',
      input: z.object({ below: z.number().int().min(2), label: z.string().default('') }),
      result: z.object({ count: z.number() }),
      defaults: { timeoutSeconds: 600, retry: { maxAttempts: 5 } },
      run,
    });
    const { inputSchema, resultSchema, defaults } = primes.declaration;
    assert.equal(inputSchema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(inputSchema['type'], 'object');
    assert.deepEqual(inputSchema['required'], ['below'], 'a field with a default is optional to the submitter');
    assert.deepEqual(resultSchema?.['required'], ['count']);
    assert.deepEqual(defaults, {
      timeoutSeconds: 600,
      heartbeatTimeoutSeconds: 30,
      retry: { maxAttempts: 5, initialIntervalSeconds: 1, backoffCoefficient: 2, maximumIntervalSeconds: 60 },
    });
    assert.deepEqual(primes.parseInput({ below: 10 }), { below: 10, label: '' });
    assert.throws(() => primes.parseInput({ below: 1 }), z.ZodError);
  });

  it('takes a plain JSON Schema as it is, and passes the input through unchecked', function () {
    const schema = { type: 'object', properties: { url: { type: 'string' } } };
    const fetchType = defineJobType({ name: 'fetch', description: '', input: schema, run });
    assert.deepEqual(fetchType.declaration.inputSchema, {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      ...schema,
    });
    assert.equal(fetchType.declaration.resultSchema, null);
    assert.deepEqual(fetchType.parseInput({ anything: 1 }), { anything: 1 });
  });

  const refused: [what: string, definition: Parameters<typeof defineJobType>[0], message: RegExp][] = [
    ['a name with capitals', { name: 'Primes', description: '', input: z.object({}), run }, /name/],
    ['an input JSON Schema cannot describe', { name: 'dates', description: '', input: z.date(), run }, /JSON Schema/],
    [
      'a timeout of 0',
      { name: 'zero', description: '', input: z.object({}), defaults: { timeoutSeconds: 0 }, run },
      /timeoutSeconds/,
    ],
  ];
  for (const [what, definition, message] of refused) {
    it(`refuses ${what} at once`, function () {
      assert.throws(
        () => defineJobType(definition),
        (err: unknown) => err instanceof JobTypeDefinitionError && message.test(err.message),
      );
    });
  }
});

describe("The SDK's payload encryption speaks the service's format", function () {
  const key = randomBytes(32);
  const payload: Payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"a":1}') };

  it('each decrypts what the other encrypted', async function () {
    const service = new ServiceCodec(key);
    const sdk = new SdkCodec(parsePayloadKey(key.toString('base64')));
    // Compared as plain data: a decoded payload is a protobuf message.
    const plain = ([decoded]: Payload[]) => ({
      encoding: Buffer.from(decoded!.metadata!['encoding']!).toString(),
      data: Buffer.from(decoded!.data!).toString(),
    });
    const expected = { encoding: 'json/plain', data: '{"a":1}' };
    assert.deepEqual(plain(await service.decode(await sdk.encode([payload]))), expected);
    assert.deepEqual(plain(await sdk.decode(await service.encode([payload]))), expected);
  });

  it('takes the key as the service does: 64 hex digits or base64 of 32 bytes', function () {
    assert.deepEqual(parsePayloadKey(key.toString('hex')), key);
    assert.deepEqual(parsePayloadKey(` ${key.toString('base64')}\n`), key);
    assert.throws(() => parsePayloadKey('short'), /32 bytes/);
  });
});
