import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect, type AddressInfo } from 'node:net';
import type { Context } from 'koa';
import { isPublicRoute, tenantOf, TenantMissingError } from '../src/api/access.js';
import { operations } from '../src/api/operations.js';
import { createApp } from '../src/api/app.js';
import { loadConfig, type Config } from '../src/config.js';
import type { ErrorBody } from '../src/contract/errors.js';
import { freePort, httpRequest, startApiPart, stopAllParts, type HttpReply } from './support/processes.js';
import { TestService, uniqueJobId } from './support/service.js';

const keys = { acme: 'acme-key-0123456789abcdef', globex: 'globex-key-0123456789abcdef' };

/** One request with the path sent exactly as spelled. */
function rawRequest(baseUrl: string, method: string, path: string, key?: string): Promise<HttpReply> {
  return httpRequest(baseUrl, { method, rawPath: path, headers: key ? { authorization: `Bearer ${key}` } : {} });
}

/** Percent-encodes the first letter of each segment that has one: `/api/v1` → `/%61pi/%761`. */
function encodeFirstLetters(path: string): string {
  return path
    .split('/')
    .map((segment) => segment.replace(/[A-Za-z]/, (letter) => `%${letter.charCodeAt(0).toString(16)}`))
    .join('/');
}

function mixedCase(path: string): string {
  return Array.from(path, (char, index) => (index % 2 === 0 ? char.toUpperCase() : char.toLowerCase())).join('');
}

/** The ways an attacker spells one path so that a guard and a router might read it differently. */
function spellings(path: string): string[] {
  const [, first = '', rest = ''] = /^\/([^/]+)(.*)$/.exec(path) ?? [];
  return [
    path.toUpperCase(),
    mixedCase(path),
    `/${first.toUpperCase()}${rest}`,
    encodeFirstLetters(path),
    path.replaceAll('/', '%2F'),
    path.replace(/^\//, '%2F'),
    `/${path}`,
    path.replace(/\/(?=[^/]*$)/, '//'),
    `${path}/`,
    `${path}//`,
    `/.${path}`,
    `/x/..${path}`,
    `/%2e${path}`,
    `${path};x`,
    `${path}%00`,
  ].filter((spelling) => spelling !== path);
}

describe('Every route but a short public list needs a key, however its path is spelled', function () {
  this.timeout(240_000);
  let service: TestService;
  const victimJobId = uniqueJobId('victim');
  const victimScheduleId = uniqueJobId('victim-schedule');
  let historyLength: number;

  /** acme's hook, made in `before`: its id is the API's to choose. */
  let victimHookId = '';
  /** Each documented operation with its path filled in with acme's own job, schedule and hook. */
  const concrete = () =>
    operations.map(({ method, path }) => ({
      method: method.toUpperCase(),
      template: path,
      path: path
        .replace('{jobId}', victimJobId)
        .replace('{scheduleId}', victimScheduleId)
        .replace('{hookId}', victimHookId),
    }));

  before(async function () {
    service = await TestService.start({
      workers: { normal: 2 },
      env: { API_KEYS: `acme:${keys.acme},globex:${keys.globex}` },
    });
    service.apiKey = keys.acme;
    const job = await service.submit(
      { type: 'sleep', input: { seconds: 0, message: 'acme only' }, jobId: victimJobId },
      '?wait=10',
    );
    assert.equal(job.body.status, 'succeeded');
    const schedule = await service.request('POST', '/api/v1/schedules', {
      scheduleId: victimScheduleId,
      intervalSeconds: 3600,
      paused: true,
      job: { type: 'sleep', input: { seconds: 0 } },
    });
    assert.equal(schedule.status, 201, JSON.stringify(schedule.body));
    const hook = await service.request<{ hookId: string }>('POST', '/api/v1/hooks', { type: 'sleep' });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    victimHookId = hook.body.hookId;
    historyLength =
      (await service.temporal.client.workflow.getHandle(`acme/${victimJobId}`).fetchHistory()).events?.length ?? 0;
    service.apiKey = undefined;
  });
  after(async function () {
    await service?.teardown();
  });

  it('answers every documented operation without a key 401, unless it is on the public list', async function () {
    const guarded = concrete().filter(({ method, path }) => !isPublicRoute(method, path));
    assert.ok(guarded.length >= 15, `only ${guarded.length} guarded operations in the document`);
    for (const { method, path } of guarded) {
      for (const key of [undefined, 'not-a-key-of-anybody-at-all']) {
        const answer = await rawRequest(service.baseUrl, method, path, key);
        assert.equal(answer.status, 401, `${method} ${path} with ${key ?? 'no key'}: ${answer.text}`);
        assert.equal((JSON.parse(answer.text) as ErrorBody).error.code, 'unauthorized');
        assert.match(String(answer.headers['www-authenticate']), /^Bearer/);
      }
    }
    const publicOnes = concrete()
      .filter(({ method, path }) => isPublicRoute(method, path))
      .map(({ path }) => path);
    // A hook's delivery too: its signature authenticates it (test/hooks.test.ts).
    assert.deepEqual(publicOnes.sort(), [
      '/api/v1/hooks/' + victimHookId,
      '/docs',
      '/healthz',
      '/metrics',
      '/openapi.json',
      '/readyz',
    ]);
  });

  it('answers 401 without a key to every other spelling of every route: letter case, escapes, slashes, dot segments', async function () {
    let tried = 0;
    const started = Date.now();
    for (const { method, path } of concrete()) {
      for (const spelling of spellings(path)) {
        for (const verb of [method, 'OPTIONS', 'HEAD']) {
          const answer = await rawRequest(service.baseUrl, verb, spelling);
          tried += 1;
          // A path no HTTP parser accepts may end at the parser (400) before any route; it is never served.
          assert.ok(
            answer.status === 401 || answer.status === 400,
            `${verb} ${spelling} answered ${answer.status}: ${answer.text}`,
          );
          if (answer.status === 401 && verb !== 'HEAD')
            assert.equal((JSON.parse(answer.text) as ErrorBody).error.code, 'unauthorized');
        }
      }
    }
    assert.ok(tried > 500, `${tried} requests`);
    console.log(`      ${tried} requests in ${Date.now() - started} ms`);
  });

  it('serves no other spelling of a route to a valid key: only the exact, case-sensitive path is routed', async function () {
    for (const { method, path } of concrete()) {
      for (const spelling of spellings(path)) {
        if (spelling === `${path}/`) continue; // the same route, as the router reads it
        const answer = await rawRequest(service.baseUrl, method, spelling, keys.globex);
        assert.ok(
          [400, 404, 405].includes(answer.status),
          `${method} ${spelling} with a key answered ${answer.status}: ${answer.text}`,
        );
      }
    }
  });

  it("answers another tenant's key 404 on acme's job and schedule, by any spelling, and leaves them as they were", async function () {
    // The public delivery ignores keys: its own test (test/hooks.test.ts) sends every spelling.
    const ofAcme = concrete().filter(
      ({ template, method, path }) => template.includes('{') && !isPublicRoute(method, path),
    );
    assert.ok(ofAcme.length >= 9, `${ofAcme.length} operations on one job or schedule`);
    for (const { method, path } of ofAcme) {
      for (const spelling of [path, `${path}/`, encodeFirstLetters(path), path.toUpperCase()]) {
        const answer = await rawRequest(service.baseUrl, method, spelling, keys.globex);
        assert.ok(
          [404, 405].includes(answer.status),
          `${method} ${spelling} as globex answered ${answer.status}: ${answer.text}`,
        );
        assert.doesNotMatch(answer.text, /acme only/);
      }
    }
    for (const path of ['/api/v1/jobs', '/api/v1/schedules', '/api/v1/jobs?status=succeeded']) {
      const answer = await rawRequest(service.baseUrl, 'GET', path, keys.globex);
      assert.equal(answer.status, 200, path);
      assert.ok(
        !answer.text.includes(victimJobId) && !answer.text.includes(victimScheduleId),
        `${path} as globex shows acme's: ${answer.text}`,
      );
    }
    const history = await service.temporal.client.workflow.getHandle(`acme/${victimJobId}`).fetchHistory();
    assert.equal(history.events?.length, historyLength, "acme's job history changed");
    service.apiKey = keys.acme;
    const schedule = await service.request<{ paused: boolean }>('GET', `/api/v1/schedules/${victimScheduleId}`);
    assert.equal(schedule.status, 200);
    assert.equal(schedule.body.paused, true);
    const job = await service.getJob(victimJobId);
    assert.equal(job.body.status, 'succeeded');
    assert.equal(job.body.attempt, 1);
    service.apiKey = undefined;
  });

  it('serves the public list to anyone, by its exact spelling only', async function () {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs', '/docs/assets/swagger-ui.css']) {
      assert.equal((await rawRequest(service.baseUrl, 'GET', path)).status, 200, path);
      assert.equal((await rawRequest(service.baseUrl, 'GET', path.toUpperCase())).status, 401, path.toUpperCase());
    }
    assert.equal((await rawRequest(service.baseUrl, 'POST', '/healthz')).status, 401);
  });
});

describe("A page of another site, through its visitor's browser", function () {
  this.timeout(120_000);
  let service: TestService;
  /** What a browser sends for a page of another site's form, or its fetch(url, { method: 'POST', mode: 'no-cors' }). */
  const fromAnotherSite = {
    origin: 'https://attacker.example',
    'sec-fetch-site': 'cross-site',
    'sec-fetch-mode': 'no-cors',
  };
  before(async function () {
    // Open, as `npm start` runs it on a developer's machine: no key stands between the page and the API.
    service = await TestService.start({ workers: { normal: 2 } });
  });
  after(async function () {
    await service?.teardown();
  });

  it('cannot make the API act: a POST without a body (cancel, retry, unpause, trigger) is a 403 that changes nothing', async function () {
    const jobId = uniqueJobId('cross-site');
    assert.equal((await service.submit({ type: 'sleep', input: { seconds: 120 }, jobId })).status, 202);
    const scheduleId = uniqueJobId('cross-site-schedule');
    const schedule = await service.request('POST', '/api/v1/schedules', {
      scheduleId,
      intervalSeconds: 3600,
      paused: true,
      job: { type: 'sleep', input: { seconds: 0 } },
    });
    assert.equal(schedule.status, 201, JSON.stringify(schedule.body));
    for (const path of [
      `/api/v1/jobs/${jobId}/cancel`,
      `/api/v1/jobs/${jobId}/retry`,
      `/api/v1/schedules/${scheduleId}/unpause`,
      `/api/v1/schedules/${scheduleId}/trigger`,
    ]) {
      const answer = await httpRequest(service.baseUrl + path, { method: 'POST', headers: fromAnotherSite });
      assert.equal(answer.status, 403, `${path}: ${answer.text}`);
      const { error } = JSON.parse(answer.text) as ErrorBody;
      assert.equal(error.code, 'forbidden');
      assert.match(error.message, /another site .* the dashboard at \/ui\/, or call the API from outside a browser$/);
    }
    const job = await service.getJob(jobId);
    assert.ok(['queued', 'running'].includes(job.body.status), job.body.status);
    const after = await service.request<{ paused: boolean; recentJobs: unknown[] }>(
      'GET',
      `/api/v1/schedules/${scheduleId}`,
    );
    assert.equal(after.body.paused, true);
    assert.deepEqual(after.body.recentJobs, []);

    // A link from another site still opens a job, and the API's own pages and clients outside a browser still act.
    const linked = await httpRequest(`${service.baseUrl}/api/v1/jobs/${jobId}`, { headers: fromAnotherSite });
    assert.equal(linked.status, 200, linked.text);
    const ownPage = await httpRequest(`${service.baseUrl}/api/v1/jobs/${jobId}/cancel`, {
      method: 'POST',
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    assert.equal(ownPage.status, 202, ownPage.text);
  });

  it("still answers the Temporal Web UI's calls of the codec routes, from TEMPORAL_UI_URL's origin", async function () {
    const decoded = await httpRequest(`${service.baseUrl}/api/v1/codec/decode`, {
      method: 'POST',
      body: '{"payloads":[]}',
      headers: { origin: new URL(service.config.TEMPORAL_UI_URL).origin, 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(decoded.status, 200, decoded.text);
    assert.equal(decoded.headers['access-control-allow-origin'], new URL(service.config.TEMPORAL_UI_URL).origin);
  });
});

/** One request written byte for byte on a socket of its own: Host headers no HTTP client sends (none, two, empty). */
function rawExchange(baseUrl: string, head: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(`${head}\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

/** The gateway on a port of its own, for `service`'s Temporal, with this configuration. */
async function startGateway(
  service: TestService,
  config: Partial<Config>,
): Promise<{ baseUrl: string; stop(): Promise<void> }> {
  const app = createApp({ client: service.temporal.client, config: { ...service.config, ...config } });
  const server = app.koa.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        app.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('A web page under a name of its own re-resolved to this machine (DNS rebinding), against the open API', function () {
  this.timeout(120_000);
  let service: TestService;
  /** The API's own port, as a browser writes it after the name. */
  let port: string;
  const commandJob = { type: 'command', input: { command: 'echo-args', args: ['pwned'] } };

  /** The spellings a rebinding page's browser (or an attacker by hand) sends; none is localhost or an IP literal. */
  const foreignHosts = [
    'evil.example',
    'evil.example:3000',
    'localhost.evil.example',
    '127.0.0.1.nip.io',
    'EVIL.EXAMPLE.',
    // Resolvers read these as 127.0.0.1, but a browser writes such a URL's host as 127.0.0.1 in Host: only another
    // client sends them, and for the API they are names like any other.
    '0x7f000001',
    '2130706433',
    '127.1',
  ];

  before(async function () {
    // Open, as `npm start` runs it: no key stands between the page and the API.
    service = await TestService.start({ workers: false });
    port = new URL(service.baseUrl).port;
  });
  after(async function () {
    await service?.teardown();
  });

  it('answers no route under a foreign Host but the probes and a hook delivery: 403 naming API_ALLOW_HOSTS and API keys', async function () {
    const jobId = uniqueJobId('rebinding');
    assert.equal((await service.submit({ type: 'sleep', input: { seconds: 60 }, jobId })).status, 202);
    for (const host of foreignHosts) {
      const headers = { host, 'sec-fetch-site': 'same-origin' };
      for (const path of [
        '/api/v1/jobs',
        `/api/v1/jobs/${jobId}`,
        '/api/v1/whoami',
        '/ui/',
        '/docs',
        '/openapi.json',
        '/metrics',
        '/no-such-route',
      ]) {
        const answer = await httpRequest(service.baseUrl + path, { headers });
        assert.equal(answer.status, 403, `${host} ${path}: ${answer.text}`);
        const { error } = JSON.parse(answer.text) as ErrorBody;
        assert.equal(error.code, 'forbidden');
        assert.equal(
          error.message,
          `the Host header names ${JSON.stringify(host.replace(/:\d+$/, '').replace(/\.$/, '').toLowerCase())}; with no API keys configured, this API answers only to localhost, *.localhost, IP addresses and the names in API_ALLOW_HOSTS (under any other name a web page's own could have been re-resolved to this machine: DNS rebinding): to reach it under that name, add it to API_ALLOW_HOSTS (comma-separated), or configure API keys (API_KEYS or API_KEYS_FILE)`,
        );
        assert.ok(!answer.text.includes(jobId), 'no job is read');
      }
      const submitted = await httpRequest(`${service.baseUrl}/api/v1/jobs`, {
        method: 'POST',
        body: JSON.stringify({ ...commandJob, jobId: uniqueJobId('rebound') }),
        headers,
      });
      assert.equal(submitted.status, 403, submitted.text);
      const cancelled = await httpRequest(`${service.baseUrl}/api/v1/jobs/${jobId}/cancel`, {
        method: 'POST',
        headers,
      });
      assert.equal(cancelled.status, 403, cancelled.text);

      // Supervisors probe under any name; a hook's delivery is judged by its signature (no such hook: 404).
      assert.equal((await httpRequest(`${service.baseUrl}/healthz`, { headers })).status, 200, host);
      assert.equal((await httpRequest(`${service.baseUrl}/readyz`, { headers })).status, 200, host);
      const delivery = await httpRequest(`${service.baseUrl}/api/v1/hooks/hk_${'a'.repeat(32)}`, {
        method: 'POST',
        body: '{}',
        headers,
      });
      assert.equal(delivery.status, 404, delivery.text);
    }
    const list = await service.request<{ jobs: { type: string }[] }>('GET', '/api/v1/jobs?type=command');
    assert.deepEqual(list.body.jobs, [], 'no command job was submitted');
    assert.equal((await service.getJob(jobId)).body.status, 'queued', 'the job was not cancelled');
  });

  it('answers under localhost, a *.localhost name and IP literals, in any case, with or without port and trailing dot', async function () {
    for (const host of [
      `localhost:${port}`,
      'localhost',
      'LOCALHOST',
      `localhost.:${port}`,
      `jobs.localhost:${port}`,
      `127.0.0.1:${port}`,
      '127.0.0.1',
      `[::1]:${port}`,
      '[::1]',
      '[::FFFF:127.0.0.1]',
      '10.0.0.5:3000',
    ]) {
      const answer = await httpRequest(`${service.baseUrl}/api/v1/whoami`, { headers: { host } });
      assert.equal(answer.status, 200, `${host}: ${answer.text}`);
    }
  });

  it('refuses a request with no Host, an empty one, two, or one that names no host', async function () {
    const cases: Array<[string, RegExp]> = [
      ['GET /api/v1/whoami HTTP/1.0', /^the request has no Host header; .*: send one Host header$/],
      ['GET /api/v1/whoami HTTP/1.1\r\nHost:', /^the Host header "" names no host; .*: send one naming the host/],
      [
        `GET /api/v1/whoami HTTP/1.1\r\nHost: localhost:${port}\r\nHost: evil.example`,
        /^the request has 2 Host headers; .*: send one Host header$/,
      ],
      [`GET /api/v1/whoami HTTP/1.1\r\nHost: evil.example\r\nhost: localhost`, /^the request has 2 Host headers; /],
      ['GET /api/v1/whoami HTTP/1.1\r\nHost: ::1', /^the Host header "::1" names no host; /],
      [
        'GET /api/v1/whoami HTTP/1.1\r\nHost: [evil.example]:3000',
        /^the Host header "\[evil.example\]:3000" names no host; /,
      ],
      ['GET /api/v1/whoami HTTP/1.1\r\nHost: :3000', /^the Host header ":3000" names no host; /],
    ];
    for (const [head, message] of cases) {
      const answer = await rawExchange(service.baseUrl, `${head}\r\nConnection: close`);
      assert.equal(answer.status, 403, `${JSON.stringify(head)}: ${answer.body}`);
      const { error } = JSON.parse(answer.body) as ErrorBody;
      assert.equal(error.code, 'forbidden');
      assert.match(error.message, message);
    }
    const probe = await rawExchange(
      service.baseUrl,
      'GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close',
    );
    assert.equal(probe.status, 200, probe.body);
  });

  it('answers the names of API_ALLOW_HOSTS (and HOST), any name for *, and any name once API keys guard it', async function () {
    const listed = await startGateway(service, {
      API_ALLOW_HOSTS: loadConfig({ API_ALLOW_HOSTS: 'Jobs.Internal., api' }).API_ALLOW_HOSTS!,
    });
    const any = await startGateway(service, { API_ALLOW_HOSTS: ['*'] });
    const host = await startGateway(service, { HOST: 'devbox.lan' });
    const keyed = await startGateway(service, { apiKeys: [{ tenant: 'acme', key: keys.acme }] });
    try {
      const status = async (baseUrl: string, host: string, key?: string) =>
        (
          await httpRequest(`${baseUrl}/api/v1/whoami`, {
            headers: { host, ...(key ? { authorization: `Bearer ${key}` } : {}) },
          })
        ).status;
      assert.equal(await status(listed.baseUrl, 'jobs.internal:3000'), 200);
      assert.equal(await status(listed.baseUrl, 'JOBS.INTERNAL.'), 200);
      assert.equal(await status(listed.baseUrl, `api:${port}`), 200, "compose's service name");
      assert.equal(await status(listed.baseUrl, 'evil.example'), 403);
      assert.equal(await status(listed.baseUrl, 'internal'), 403);
      assert.equal(await status(any.baseUrl, 'evil.example'), 200);
      assert.equal(await status(host.baseUrl, 'devbox.lan:3000'), 200);
      assert.equal(await status(host.baseUrl, 'evil.example'), 403);
      // A rebinding page has no key to send: with keys, the key decides and the name does not.
      assert.equal(await status(keyed.baseUrl, 'evil.example', keys.acme), 200);
      assert.equal(await status(keyed.baseUrl, 'evil.example'), 401);
    } finally {
      await Promise.all([listed, any, host, keyed].map((gateway) => gateway.stop()));
    }
  });

  it('refuses at start-up an API_ALLOW_HOSTS entry that is not a host name', function () {
    assert.deepEqual(loadConfig({ API_ALLOW_HOSTS: ' Jobs.Internal., api,* ,' }).API_ALLOW_HOSTS, [
      'jobs.internal',
      'api',
      '*',
    ]);
    for (const entry of ['jobs.internal:3000', 'http://jobs.internal', '*.example.com', 'a b', '[::1]'])
      assert.throws(
        () => loadConfig({ API_ALLOW_HOSTS: entry }),
        /^ConfigInvalidError: invalid configuration: API_ALLOW_HOSTS: ".*" is not a host name: give the name alone, without scheme or port \(e\.g\. jobs\.internal\), or \* for any$/,
        entry,
      );
  });
});

describe('A tenant route reached without authentication', function () {
  it('throws rather than acting as any tenant', function () {
    const ctx = { method: 'GET', path: '/api/v1/jobs', state: {} } as unknown as Context;
    assert.throws(() => tenantOf(ctx), TenantMissingError);
    assert.equal(tenantOf({ ...ctx, state: { tenant: 'acme' } }), 'acme');
  });
});

/** The local addresses a process listens on for TCP, as the kernel reports them. */
function listeningAddresses(pid: number): string[] {
  const lines = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' }).split('\n');
  return lines.filter((line) => line.includes(`pid=${pid},`)).map((line) => line.trim().split(/\s+/)[3]!);
}

describe('Where the API listens', function () {
  this.timeout(60_000);
  after(stopAllParts);

  it('listens on loopback only while it is open, on every interface once keys guard it, and where HOST says', async function () {
    const cases: Array<{ env: Record<string, string>; host: string }> = [
      { env: {}, host: '127.0.0.1' },
      { env: { API_KEYS: `acme:${keys.acme}` }, host: '0.0.0.0' },
      { env: { API_KEYS: `acme:${keys.acme}`, HOST: '127.0.0.1' }, host: '127.0.0.1' },
    ];
    for (const { env, host } of cases) {
      const port = await freePort();
      const api = await startApiPart({
        port,
        temporalAddress: '127.0.0.1:1',
        taskQueuePrefix: 'listen',
        commandsDir: 'jobs/commands',
        env,
      });
      try {
        assert.deepEqual(listeningAddresses(api.pid), [`${host}:${port}`], JSON.stringify(env));
        await api.waitForOutput(host === '127.0.0.1' && !('HOST' in env) ? /loopback only/ : /listening on/);
      } finally {
        await api.stop();
      }
    }
    assert.equal(loadConfig({ HOST: '::1' }).listenHost, '::1');
  });
});
