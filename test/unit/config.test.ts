// The environment the service reads (src/config.ts loadConfig): its defaults, what it derives, and refusals that
// name the variable to fix.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigInvalidError, loadConfig } from '../../src/config.js';

const key = (n: number): string => `key-${String(n).padStart(16, '0')}`;
const hexKey = 'ab'.repeat(32);
const base64Key = Buffer.alloc(32, 7).toString('base64');

describe('Configuration starts from defaults that run locally', function () {
  it('with an empty environment: port 3000, the local dev server, queues high:20 normal:10 low:5, an open API on loopback', function () {
    const config = loadConfig({});
    assert.equal(config.PORT, 3000);
    assert.equal(config.temporalAddress, 'localhost:7233');
    assert.equal(config.TEMPORAL_NAMESPACE, 'default');
    assert.equal(config.TEMPORAL_UI_URL, 'http://localhost:8233');
    assert.deepEqual(config.WORKER_QUEUES, { high: 20, normal: 10, low: 5 });
    assert.equal(config.WORKER_MAX_CACHED_WORKFLOWS, 50);
    assert.deepEqual(config.apiKeys, []);
    assert.equal(config.listenHost, '127.0.0.1');
    assert.deepEqual(config.CODEC_TENANTS, []);
    assert.equal(config.JOBS_TASK_QUEUE_PREFIX, 'jobs');
    assert.equal(config.SCHEDULE_MIN_INTERVAL_SECONDS, 10);
  });

  it('reads numbers from their text', function () {
    const config = loadConfig({
      PORT: '8080',
      BODY_LIMIT_BYTES: '2048',
      RATE_LIMIT_SUBMITS_PER_SEC: '2.5',
      JOBS_TYPE_REGISTRY_CACHE_MS: '5000',
    });
    assert.equal(config.PORT, 8080);
    assert.equal(config.JOBS_TYPE_REGISTRY_CACHE_MS, 5000);
    assert.equal(loadConfig({}).JOBS_TYPE_REGISTRY_CACHE_MS, 1500);
    assert.equal(config.BODY_LIMIT_BYTES, 2048);
    assert.equal(config.RATE_LIMIT_SUBMITS_PER_SEC, 2.5);
  });

  it('links the Web UI at TEMPORAL_UI_URL without its trailing slashes, else at TEMPORAL_DEV_UI_PORT', function () {
    assert.equal(
      loadConfig({ TEMPORAL_UI_URL: 'https://temporal.example.com/ui//' }).TEMPORAL_UI_URL,
      'https://temporal.example.com/ui',
    );
    assert.equal(loadConfig({ TEMPORAL_DEV_UI_PORT: '9233' }).TEMPORAL_UI_URL, 'http://localhost:9233');
  });
});

describe('Configuration takes TRACE_UI_URL as a trace viewer address holding {traceId}', function () {
  it('keeps a Jaeger or Grafana Tempo template as given; unset by default', function () {
    assert.equal(loadConfig({}).TRACE_UI_URL, undefined);
    assert.equal(
      loadConfig({ TRACE_UI_URL: 'http://localhost:16686/trace/{traceId}' }).TRACE_UI_URL,
      'http://localhost:16686/trace/{traceId}',
    );
    const tempo = 'https://grafana.example/explore?left={"datasource":"tempo","queries":[{"query":"{traceId}"}]}';
    assert.equal(loadConfig({ TRACE_UI_URL: tempo }).TRACE_UI_URL, tempo);
  });

  const refusals: [value: string, says: RegExp][] = [
    ['http://localhost:16686/trace/', /must hold \{traceId\}/],
    ['javascript:alert("{traceId}")', /must be an http\(s\) URL/],
    ['ftp://traces.example/{traceId}', /must be an http\(s\) URL/],
    ['localhost:16686/trace/{traceId}', /must be an http\(s\) URL/],
  ];
  for (const [value, says] of refusals) {
    it(`refuses ${JSON.stringify(value)} at start-up, saying what it must be`, function () {
      assert.throws(
        () => loadConfig({ TRACE_UI_URL: value }),
        (err: unknown) =>
          err instanceof ConfigInvalidError &&
          err.message.startsWith('invalid configuration: TRACE_UI_URL: ') &&
          says.test(err.message),
      );
    });
  }
});

describe('Configuration reads WORKER_QUEUES as priority:slots', function () {
  const rows: [text: string, slots: Record<string, number>][] = [
    ['high:4', { high: 4 }],
    ['high:1, low:9999', { high: 1, low: 9999 }],
    [' normal:3 ,, ', { normal: 3 }],
    ['low:2,low:7', { low: 7 }],
  ];
  for (const [text, slots] of rows) {
    it(`"${text}" → ${JSON.stringify(slots)}`, function () {
      assert.deepEqual(loadConfig({ WORKER_QUEUES: text }).WORKER_QUEUES, slots);
    });
  }
});

describe('Configuration listens where it is safe to', function () {
  const rows: [name: string, env: Record<string, string>, host: string][] = [
    ['an open API on loopback only', {}, '127.0.0.1'],
    ['an API guarded by keys on every interface', { API_KEYS: `acme:${key(1)}` }, '0.0.0.0'],
    ['HOST when given, open or not', { HOST: '192.168.1.5' }, '192.168.1.5'],
    ["HOST over the keys' default", { HOST: 'localhost', API_KEYS: `acme:${key(1)}` }, 'localhost'],
    ['an IPv6 HOST', { HOST: '::' }, '::'],
  ];
  for (const [name, env, host] of rows) {
    it(`${name}: ${host}`, function () {
      assert.equal(loadConfig(env).listenHost, host);
    });
  }
});

describe('Configuration takes API keys from API_KEYS and API_KEYS_FILE', function () {
  let dir: string;
  before(function () {
    dir = mkdtempSync(join(tmpdir(), 'durable-jobs-config-'));
  });
  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  function file(name: string, content: string): string {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  }

  it('reads tenant:key pairs, spaces and empty items ignored', function () {
    assert.deepEqual(loadConfig({ API_KEYS: ` acme:${key(1)}, globex:${key(2)},` }).apiKeys, [
      { tenant: 'acme', key: key(1) },
      { tenant: 'globex', key: key(2) },
    ]);
  });

  it('splits an entry at its first colon: a key may hold colons', function () {
    assert.deepEqual(loadConfig({ API_KEYS: `acme:${key(1)}:x` }).apiKeys, [{ tenant: 'acme', key: `${key(1)}:x` }]);
  });

  it("adds the file's keys, several per tenant, after the variable's", function () {
    const path = file('keys.json', JSON.stringify({ acme: [key(2), key(3)], globex: [key(4)] }));
    assert.deepEqual(loadConfig({ API_KEYS: `acme:${key(1)}`, API_KEYS_FILE: path }).apiKeys, [
      { tenant: 'acme', key: key(1) },
      { tenant: 'acme', key: key(2) },
      { tenant: 'acme', key: key(3) },
      { tenant: 'globex', key: key(4) },
    ]);
  });

  const refusals: [name: string, env: () => Record<string, string>, message: RegExp][] = [
    [
      'a key given twice, across both',
      () => ({ API_KEYS: `acme:${key(1)}`, API_KEYS_FILE: file('twice.json', JSON.stringify({ globex: [key(1)] })) }),
      /API_KEYS \/ API_KEYS_FILE: the same key is given twice/,
    ],
    [
      'a file that is not there',
      () => ({ API_KEYS_FILE: join(dir, 'missing.json') }),
      /API_KEYS_FILE: cannot read .*missing\.json as JSON/,
    ],
    ['a file that is not JSON', () => ({ API_KEYS_FILE: file('bad.json', 'acme: key') }), /API_KEYS_FILE: cannot read/],
    [
      'a file with a short key',
      () => ({ API_KEYS_FILE: file('short.json', JSON.stringify({ acme: ['short'] })) }),
      /API_KEYS_FILE: acme\.0: an API key has at least 16 characters/,
    ],
    [
      'a file with a tenant with no keys',
      () => ({ API_KEYS_FILE: file('empty.json', JSON.stringify({ acme: [] })) }),
      /API_KEYS_FILE: acme/,
    ],
    [
      'a file with a bad tenant name',
      () => ({ API_KEYS_FILE: file('tenant.json', JSON.stringify({ 'ac me': [key(1)] })) }),
      /API_KEYS_FILE: ac me: a tenant is 1–64 characters of \[A-Za-z0-9_-\]/,
    ],
    [
      'a file with a tenant name that would end a visibility query string',
      () => ({ API_KEYS_FILE: file('quote.json', JSON.stringify({ "acme' OR JobTenant != 'x": [key(1)] })) }),
      /API_KEYS_FILE: acme' OR JobTenant != 'x: a tenant is 1–64 characters of \[A-Za-z0-9_-\]/,
    ],
  ];
  for (const [name, env, message] of refusals) {
    it(`refuses ${name}`, function () {
      assert.throws(
        () => loadConfig(env()),
        (err: unknown) => err instanceof ConfigInvalidError && message.test(err.message),
      );
    });
  }
});

describe('Configuration takes payload keys as 32 bytes, in hex or base64', function () {
  it('reads PAYLOAD_ENCRYPTION_KEY in hex and PAYLOAD_DECRYPTION_KEYS in base64', function () {
    const config = loadConfig({ PAYLOAD_ENCRYPTION_KEY: hexKey, PAYLOAD_DECRYPTION_KEYS: ` ${base64Key} ,${hexKey}` });
    assert.deepEqual(config.PAYLOAD_ENCRYPTION_KEY, Buffer.from(hexKey, 'hex'));
    assert.deepEqual(config.PAYLOAD_DECRYPTION_KEYS, [Buffer.alloc(32, 7), Buffer.from(hexKey, 'hex')]);
  });

  it('reads CODEC_TENANTS as a list of tenants', function () {
    assert.deepEqual(loadConfig({ CODEC_TENANTS: 'ops, admin' }).CODEC_TENANTS, ['ops', 'admin']);
  });

  it('reads JOBS_COMMAND_UIDS as a range', function () {
    assert.deepEqual(loadConfig({ JOBS_COMMAND_UIDS: '100000-165535' }).JOBS_COMMAND_UIDS, {
      first: 100_000,
      last: 165_535,
    });
  });

  it('normalises CALLBACK_ALLOW_HOSTS entries as a target is compared: host lower case, no trailing dot', function () {
    assert.deepEqual(loadConfig({ CALLBACK_ALLOW_HOSTS: 'Hooks.Example.COM.:8443' }).CALLBACK_ALLOW_HOSTS, [
      'hooks.example.com:8443',
    ]);
  });
});

describe('Configuration refuses a bad value, naming the variable', function () {
  const rows: [variable: string, value: string][] = [
    ['PORT', '65536'],
    ['PORT', 'http'],
    ['HOST', 'my host'],
    ['TEMPORAL_ADDRESS', 'localhost'],
    ['TEMPORAL_ADDRESS', 'http://localhost:7233'],
    ['TEMPORAL_NAMESPACE', ''],
    ['TEMPORAL_UI_URL', 'not a url'],
    ['JOBS_TASK_QUEUE_PREFIX', 'jobs/high'],
    ['JOBS_COMMAND_USER', 'no body'],
    ['JOBS_COMMAND_CPU_SECONDS', '0'],
    ['JOBS_COMMAND_MEMORY_BYTES', '1024'],
    ['JOBS_COMMAND_NETWORK', 'bridge'],
    ['JOBS_COMMAND_UIDS', '999-2000'],
    ['JOBS_COMMAND_UIDS', '2000-1000'],
    ['JOBS_COMMAND_UIDS', '1000'],
    ['JOBS_COMMAND_TMP_BYTES', '1000'],
    ['LOG_LEVEL', 'verbose'],
    ['WORKER_QUEUES', 'urgent:5'],
    ['WORKER_QUEUES', 'high:0'],
    ['WORKER_QUEUES', 'high:10000'],
    ['WORKER_QUEUES', 'high'],
    ['WORKER_QUEUES', ' , '],
    ['BODY_LIMIT_BYTES', '1023'],
    ['API_KEYS', `acme${key(1)}`],
    ['API_KEYS', `:${key(1)}`],
    ['API_KEYS', 'acme:too-short'],
    ['API_KEYS', `ac me:${key(1)}`],
    ['API_KEYS', `acme:${key(1)} x`],
    ['RATE_LIMIT_SUBMITS_PER_SEC', '0'],
    ['RATE_LIMIT_BURST', '1.5'],
    ['MAX_UNFINISHED_JOBS_PER_TENANT', '0'],
    ['SCHEDULE_MIN_INTERVAL_SECONDS', '86401'],
    ['MAX_SCHEDULES_PER_TENANT', '0'],
    ['CALLBACK_SECRET', 'short'],
    ['CALLBACK_ALLOW_HOSTS', 'example.com'],
    ['CALLBACK_ALLOW_HOSTS', 'https://example.com:443'],
    ['PAYLOAD_ENCRYPTION_KEY', 'ab'.repeat(16)],
    ['PAYLOAD_ENCRYPTION_KEY', 'not a key'],
    ['CODEC_TENANTS', 'ops,a b'],
    ['JOBS_TYPE_REGISTRY_CACHE_MS', '100'],
    ['WORKER_METRICS_PORT', '0'],
    ['TEMPORAL_DEV_PORT', '70000'],
    ['TEMPORAL_DEV_UI_PORT', '-1'],
  ];
  for (const [variable, value] of rows) {
    it(`${variable}=${JSON.stringify(value)}`, function () {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        (err: unknown) =>
          err instanceof ConfigInvalidError && err.message.startsWith(`invalid configuration: ${variable}`),
      );
    });
  }

  it('names every bad variable at once', function () {
    assert.throws(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' }), /PORT: .*; LOG_LEVEL: /);
  });

  it('refuses PAYLOAD_DECRYPTION_KEYS without PAYLOAD_ENCRYPTION_KEY', function () {
    assert.throws(
      () => loadConfig({ PAYLOAD_DECRYPTION_KEYS: hexKey }),
      /PAYLOAD_DECRYPTION_KEYS: needs PAYLOAD_ENCRYPTION_KEY/,
    );
  });

  it('ignores variables it does not read', function () {
    assert.equal(loadConfig({ PATH: '/usr/bin', TEMPORAL_ADDRES: 'typo:1' }).temporalAddress, 'localhost:7233');
  });
});
