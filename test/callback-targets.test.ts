// Callbacks that cannot reach inside: what the submit refuses from a callbackUrl's text, what the delivery
// refuses from what its host resolves to, and the allow list of exact host:ports. Nothing here connects
// anywhere but 127.0.0.1: the refusals are asserted, and resolvers are injected where a name must resolve
// to another address.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { addressRefusal, callbackUrlRefusal } from '../src/activities/callback-target.js';
import { CallbackTargetRefusedError, resolveCallbackTarget } from '../src/activities/callback.js';
import { ConfigInvalidError, loadConfig, parseAllowEntry } from '../src/config.js';
import type { ErrorBody } from '../src/contract/errors.js';
import type { Job } from '../src/contract/job.js';
import { freePort } from './support/processes.js';
import { TestService, uniqueJobId } from './support/service.js';

const callbackSecret = 'callback-secret-0123456789';

interface Receiver {
  readonly server: Server;
  readonly port: number;
  /** Every request that reached it. */
  readonly requests: Array<{ method: string; body: string; signature: string | undefined }>;
  close(): Promise<void>;
}

/** A receiver on 127.0.0.1:`port`, over https when given a key and certificate; `answer` writes each response. */
async function startReceiver(
  port: number,
  answer: (res: ServerResponse) => void,
  tls?: { key: string; cert: string },
): Promise<Receiver> {
  const requests: Receiver['requests'] = [];
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
        signature: req.headers['x-signature'] as string | undefined,
      });
      answer(res);
    });
  };
  const server: Server = tls ? createHttpsServer(tls, handle) : createHttpServer(handle);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    server,
    port,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A self-signed certificate for localhost and 127.0.0.1, made with openssl; undefined without openssl. */
function selfSignedCertificate(): { dir: string; key: string; cert: string; certFile: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'callback-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return { dir, key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

function refusalOf(url: string, allowed: readonly string[] = []): string | undefined {
  return callbackUrlRefusal(new URL(url), allowed);
}

/** A resolver that answers these addresses for every name, and records the names it was asked. */
function fixedLookup(...addresses: string[]): {
  lookup: (hostname: string) => Promise<LookupAddress[]>;
  asked: string[];
} {
  const asked: string[] = [];
  return {
    asked,
    lookup: (hostname) => {
      asked.push(hostname);
      return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
    },
  };
}

describe('The callback address policy', function () {
  it('refuses every non-public IPv4 range, in every spelling the URL parser normalises', function () {
    const refused: Array<[string, RegExp]> = [
      ['https://127.0.0.1', /127\.0\.0\.1 is a loopback address/],
      ['https://2130706433', /127\.0\.0\.1 is a loopback address/],
      ['https://0177.0.0.1', /127\.0\.0\.1 is a loopback address/],
      ['https://0x7f.0.0.1', /127\.0\.0\.1 is a loopback address/],
      ['https://0x7f.1', /127\.0\.0\.1 is a loopback address/],
      ['https://0x7f000001', /127\.0\.0\.1 is a loopback address/],
      ['https://127.1', /127\.0\.0\.1 is a loopback address/],
      ['https://127.0.0.1.', /127\.0\.0\.1 is a loopback address/],
      ['https://%31%32%37.0.0.1', /127\.0\.0\.1 is a loopback address/],
      ['https://0.0.0.0', /unspecified/],
      ['https://0', /0\.0\.0\.0 is an unspecified/],
      ['https://10.0.0.1', /private/],
      ['https://012.1', /10\.0\.0\.1 is a private/],
      ['https://172.16.0.1', /private/],
      ['https://172.31.255.255', /private/],
      ['https://192.168.1.1', /private/],
      ['https://100.64.0.1', /carrier-grade NAT/],
      ['https://169.254.169.254', /link-local/],
      ['https://2852039166', /169\.254\.169\.254 is a link-local/],
      ['https://224.0.0.1', /multicast/],
      ['https://239.255.255.250', /multicast/],
      ['https://255.255.255.255', /broadcast/],
      ['https://240.0.0.1', /reserved/],
      ['https://198.18.0.1', /benchmarking/],
      ['https://192.0.2.1', /documentation/],
      ['https://192.0.0.8', /IETF/],
    ];
    for (const [url, reason] of refused) assert.match(refusalOf(url) ?? 'accepted', reason, url);
  });

  it('refuses every non-public IPv6 range, and IPv4 addresses carried in IPv6, with or without brackets and zone ids', function () {
    const refused: Array<[string, RegExp]> = [
      ['https://[::1]', /::1 is the loopback address/],
      ['https://[0:0:0:0:0:0:0:1]', /::1 is the loopback address/],
      ['https://[::]', /unspecified/],
      ['https://[::ffff:127.0.0.1]', /IPv4-mapped IPv6 address of 127\.0\.0\.1, a loopback address/],
      ['https://[::ffff:7f00:1]', /IPv4-mapped IPv6 address of 127\.0\.0\.1/],
      ['https://[::FFFF:7F00:1]', /IPv4-mapped IPv6 address of 127\.0\.0\.1/],
      ['https://[::ffff:a9fe:a9fe]', /IPv4-mapped IPv6 address of 169\.254\.169\.254, a link-local/],
      ['https://[::127.0.0.1]', /IPv4-compatible IPv6 address of 127\.0\.0\.1/],
      ['https://[64:ff9b::127.0.0.1]', /NAT64 address of 127\.0\.0\.1/],
      ['https://[64:ff9b::a00:1]', /NAT64 address of 10\.0\.0\.1, a private/],
      ['https://[2002:7f00:1::]', /6to4 address of 127\.0\.0\.1/],
      ['https://[fe80::1]', /link-local/],
      ['https://[febf::1]', /link-local/],
      ['https://[fd00::1]', /unique-local/],
      ['https://[fc00::1]', /unique-local/],
      ['https://[ff02::1]', /multicast/],
      ['https://[2001:db8::1]', /documentation/],
      ['https://[2001::1]', /IETF/],
      ['https://[100::1]', /discard-only/],
      ['https://[4000::1]', /reserved/],
    ];
    for (const [url, reason] of refused) assert.match(refusalOf(url) ?? 'accepted', reason, url);
    // A zone id is no part of a URL (the submit's schema refuses it), but dns.lookup may answer one.
    assert.throws(() => new URL('https://[fe80::1%25eth0]/hook'));
    for (const address of ['fe80::1%eth0', '[fe80::1%25eth0]', '::1%lo', '[::ffff:127.0.0.1]'])
      assert.ok(addressRefusal(address), address);
  });

  it('accepts public addresses and every host name over https: names are judged at delivery', function () {
    for (const url of [
      'https://8.8.8.8/hook',
      'https://1.1.1.1:8443/hook',
      'https://100.128.0.1',
      'https://172.32.0.1',
      'https://[2606:4700:4700::1111]/hook',
      'https://[::ffff:8.8.8.8]',
      'https://[64:ff9b::808:808]',
      'https://example.com/hook',
      'https://localhost/hook',
      'https://LOCALHOST./hook',
    ]) {
      assert.equal(refusalOf(url), undefined, url);
    }
  });

  it('takes plain http, and non-public addresses, only for an exact allow-listed host:port', function () {
    const allowed = [parseAllowEntry('127.0.0.1:8443')!, parseAllowEntry('Receiver.Internal.:8080')!];
    assert.deepEqual(allowed, ['127.0.0.1:8443', 'receiver.internal:8080']);
    assert.equal(refusalOf('http://127.0.0.1:8443/hook', allowed), undefined);
    assert.equal(refusalOf('https://127.0.0.1:8443/hook', allowed), undefined);
    assert.equal(refusalOf('http://2130706433:8443/hook', allowed), undefined);
    assert.equal(refusalOf('http://receiver.internal:8080/hook', allowed), undefined);
    assert.equal(refusalOf('http://RECEIVER.internal.:8080/hook', allowed), undefined);
    assert.match(
      refusalOf('http://127.0.0.1:8444/hook', allowed) ?? 'accepted',
      /plain http .* 127\.0\.0\.1:8444 is not/,
    );
    assert.match(refusalOf('https://127.0.0.1:8444/hook', allowed) ?? 'accepted', /loopback/);
    assert.match(refusalOf('http://127.0.0.1/hook', allowed) ?? 'accepted', /127\.0\.0\.1:80 is not/);
    assert.match(refusalOf('http://receiver.internal/hook', allowed) ?? 'accepted', /receiver\.internal:80 is not/);
    assert.match(refusalOf('http://localhost:8233/', allowed) ?? 'accepted', /localhost:8233 is not/);
    assert.match(refusalOf('http://8.8.8.8/hook', allowed) ?? 'accepted', /plain http/);
  });

  it('refuses at start-up an allow-list entry that is not host:port', function () {
    assert.deepEqual(
      loadConfig({ CALLBACK_ALLOW_HOSTS: ' 127.0.0.1:8443, [::1]:9000,localhost:80 ' }).CALLBACK_ALLOW_HOSTS,
      ['127.0.0.1:8443', '[::1]:9000', 'localhost:80'],
    );
    for (const entry of [
      '127.0.0.1',
      'localhost',
      '::1',
      '[::1]',
      'host:0',
      'host:65536',
      'http://host:80',
      'user@host:80',
      'host:80/path',
    ]) {
      assert.throws(
        () => loadConfig({ CALLBACK_ALLOW_HOSTS: entry }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigInvalidError);
          assert.match(err.message, /CALLBACK_ALLOW_HOSTS: .* is not host:port/);
          return true;
        },
        entry,
      );
    }
  });

  it('refuses a name at delivery when any address it resolves to is not public, and otherwise gives the address checked', async function () {
    const mixed = fixedLookup('93.184.215.14', '10.0.0.1');
    await assert.rejects(
      resolveCallbackTarget(new URL('https://hooks.example/cb'), [], mixed.lookup),
      (err: unknown) => {
        assert.ok(err instanceof CallbackTargetRefusedError);
        assert.deepEqual({ address: err.address, kind: err.kind }, { address: '10.0.0.1', kind: 'a private address' });
        // What the submitter reads: the name they gave, not what the worker's resolver made of it.
        assert.match(err.message, /hooks\.example resolves to an address that is not public/);
        assert.doesNotMatch(err.message, /10\.0\.0\.1|private/);
        return true;
      },
    );
    const rebinding = fixedLookup('::ffff:169.254.169.254');
    await assert.rejects(
      resolveCallbackTarget(new URL('https://hooks.example/cb'), [], rebinding.lookup),
      (err: unknown) =>
        err instanceof CallbackTargetRefusedError && /IPv4-mapped IPv6 address of 169\.254\.169\.254/.test(err.kind),
    );
    const publicOnly = fixedLookup('93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c');
    assert.deepEqual(await resolveCallbackTarget(new URL('https://hooks.example/cb'), [], publicOnly.lookup), {
      address: '93.184.215.14',
      family: 4,
    });
    const internal = fixedLookup('10.1.2.3');
    assert.deepEqual(
      await resolveCallbackTarget(new URL('http://hooks.internal:8080/cb'), ['hooks.internal:8080'], internal.lookup),
      { address: '10.1.2.3', family: 4 },
    );
    // A literal is never looked up, and a refused URL is refused before any lookup.
    const literal = fixedLookup('10.0.0.1');
    assert.deepEqual(await resolveCallbackTarget(new URL('https://8.8.8.8/cb'), [], literal.lookup), {
      address: '8.8.8.8',
      family: 4,
    });
    await assert.rejects(resolveCallbackTarget(new URL('http://hooks.example/cb'), [], literal.lookup), /plain http/);
    assert.deepEqual(literal.asked, []);
  });

  it('judges an IPv4 address alike in every notation (property)', function () {
    const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
    fc.assert(
      fc.property(ipv4, (parts) => {
        const dotted = parts.join('.');
        const value = parts.reduce((sum, part) => sum * 256 + part, 0);
        const hex = (n: number) => n.toString(16);
        const verdict = refusalOf(`https://${dotted}/`) !== undefined;
        const spellings = [
          `https://${value}/`,
          `https://0x${hex(value)}/`,
          `https://${parts.map((part) => `0${part.toString(8)}`).join('.')}/`,
          `https://${parts.map((part) => `0x${hex(part)}`).join('.')}/`,
          `https://${dotted}./`,
          `https://[::ffff:${dotted}]/`,
          `https://[::ffff:${hex(value >>> 16)}:${hex(value & 0xffff)}]/`,
          `https://[64:ff9b::${dotted}]/`,
        ];
        for (const spelling of spellings)
          assert.equal(refusalOf(spelling) !== undefined, verdict, `${spelling} against ${dotted}`);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses all of 127/8, 10/8, 169.254/16 and fc00::/7 (property)', function () {
    const byte = fc.nat(255);
    fc.assert(
      fc.property(byte, byte, byte, fc.nat(0xffff), fc.nat(0xffff), (a, b, c, g1, g2) => {
        for (const address of [
          `127.${a}.${b}.${c}`,
          `10.${a}.${b}.${c}`,
          `169.254.${b}.${c}`,
          `${(0xfc00 | ((a & 1) << 8) | b).toString(16)}:${g1.toString(16)}::${g2.toString(16)}`,
        ]) {
          assert.ok(addressRefusal(address), address);
        }
      }),
    );
  });
});

describe('Submit refuses callback URLs that reach inside', function () {
  let service: TestService;
  let allowedPort: number;
  before(async function () {
    allowedPort = await freePort();
    service = await TestService.start({
      workers: false,
      env: { CALLBACK_SECRET: callbackSecret, CALLBACK_ALLOW_HOSTS: `127.0.0.1:${allowedPort}` },
    });
  });
  after(async function () {
    await service.teardown();
  });

  it('answers 400 invalid_request saying why and starts no workflow, for each non-public literal and each allow-list miss over http', async function () {
    const refused: Array<[string, RegExp]> = [
      [`https://127.0.0.1:${allowedPort + 1}/hook`, /loopback/],
      ['https://[::1]/hook', /loopback/],
      ['https://0.0.0.0/hook', /unspecified/],
      ['https://2130706433/hook', /127\.0\.0\.1 is a loopback/],
      ['https://0177.0.0.1/hook', /127\.0\.0\.1 is a loopback/],
      ['https://0x7f.0.0.1/hook', /127\.0\.0\.1 is a loopback/],
      ['https://127.1/hook', /127\.0\.0\.1 is a loopback/],
      ['https://10.0.0.1/hook', /private/],
      ['https://169.254.169.254/latest/meta-data', /link-local/],
      ['https://[::ffff:127.0.0.1]/hook', /IPv4-mapped .* 127\.0\.0\.1/],
      ['https://[::ffff:7f00:1]/hook', /IPv4-mapped .* 127\.0\.0\.1/],
      ['https://[fe80::1]/hook', /link-local/],
      ['https://[fd00::1]/hook', /unique-local/],
      ['https://100.64.0.1/hook', /carrier-grade NAT/],
      ['https://224.0.0.1/hook', /multicast/],
      ['https://192.168.1.1/hook', /private/],
      ['https://172.16.0.1/hook', /private/],
      ['http://localhost:8233/', /plain http .* localhost:8233 is not/],
      [`http://127.0.0.1:${allowedPort + 1}/hook`, /plain http .* is not/],
      [`http://localhost:${allowedPort}/hook`, /plain http .* localhost:\d+ is not/],
    ];
    for (const [callbackUrl, reason] of refused) {
      const jobId = uniqueJobId('refused-callback');
      const response = await service.request<ErrorBody>('POST', '/api/v1/jobs', {
        type: 'sleep',
        input: { seconds: 0 },
        jobId,
        callbackUrl,
      });
      assert.equal(response.status, 400, callbackUrl);
      assert.equal(response.body.error.code, 'invalid_request', callbackUrl);
      assert.match(response.body.error.message, /^callbackUrl: /, callbackUrl);
      assert.match(response.body.error.message, reason, callbackUrl);
      assert.match(response.body.error.message, /public https URL, or .* CALLBACK_ALLOW_HOSTS/, callbackUrl);
      assert.equal((await service.getJob(jobId)).status, 404, callbackUrl);
      assert.equal(await service.countWorkflows(`WorkflowId = '${jobId}'`), 0, callbackUrl);
    }
  });

  it('accepts the allow-listed host:port over http, a public literal over https, and a name over https (resolved only at delivery)', async function () {
    for (const callbackUrl of [
      `http://127.0.0.1:${allowedPort}/hook`,
      `http://2130706433:${allowedPort}/hook`,
      'https://8.8.8.8/hook',
      'https://callbacks.invalid/hook',
    ]) {
      const jobId = uniqueJobId('accepted-callback');
      // This service runs no workers: the job stays queued and nothing is ever delivered.
      const response = await service.submit({ type: 'sleep', input: { seconds: 0 }, jobId, callbackUrl });
      assert.equal(response.status, 202, callbackUrl);
    }
  });
});

describe('An https receiver on 127.0.0.1 is reached only at its allow-listed host:port', function () {
  let service: TestService;
  let tls: ReturnType<typeof selfSignedCertificate>;
  let receiver: Receiver;
  before(async function () {
    tls = selfSignedCertificate();
    if (!tls) this.skip();
    receiver = await startReceiver(await freePort(), (res) => res.writeHead(204).end(), tls);
    // localhost is listed, but on another port.
    const allow = `127.0.0.1:${receiver.port},localhost:${await freePort()}`;
    service = await TestService.start({
      env: { CALLBACK_SECRET: callbackSecret, CALLBACK_ALLOW_HOSTS: allow, CALLBACK_CA_FILE: tls.certFile },
    });
  });
  after(async function () {
    await service?.teardown();
    await receiver?.close();
    if (tls) rmSync(tls.dir, { recursive: true, force: true });
  });

  it('refuses delivery to localhost:<port> when the list names localhost on another port: the callback says why, the receiver gets nothing', async function () {
    const jobId = uniqueJobId('https-unlisted');
    const submitted = await service.submit({
      type: 'sleep',
      input: { seconds: 0 },
      jobId,
      callbackUrl: `https://localhost:${receiver.port}/hook`,
    });
    assert.equal(submitted.status, 202);
    const job = await service.waitFor(jobId, (current) => current.callback?.status !== 'pending', 30_000);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.callback?.status, 'failed');
    assert.equal(job.callback?.attempts, 1);
    assert.equal(job.callback?.lastError?.type, 'UnrecoverableError');
    assert.match(
      job.callback?.lastError?.message ?? '',
      /^callbackUrl refused: localhost resolves to an address that is not public; give a public https URL/,
    );
    assert.equal(receiver.requests.length, 0);
  });

  it('delivers the signed POST over https to the allow-listed 127.0.0.1:<port>', async function () {
    const jobId = uniqueJobId('https-listed');
    await service.submit({
      type: 'sleep',
      input: { seconds: 0, message: 'over tls' },
      jobId,
      callbackUrl: `https://127.0.0.1:${receiver.port}/hook`,
    });
    const job = await service.waitFor(jobId, (current) => current.callback?.status === 'delivered', 30_000);
    assert.deepEqual(job.callback, { status: 'delivered', attempts: 1, lastError: null });
    const delivery = receiver.requests.find((request) => (JSON.parse(request.body) as Job).jobId === jobId);
    assert.ok(delivery);
    assert.equal(delivery.method, 'POST');
    assert.equal(
      delivery.signature,
      `sha256=${createHmac('sha256', callbackSecret).update(delivery.body).digest('hex')}`,
    );
  });
});

describe('A callback host name that resolves to a loopback address', function () {
  let service: TestService;
  let receiver: Receiver;
  before(async function () {
    receiver = await startReceiver(await freePort(), (res) => res.writeHead(204).end());
    service = await TestService.start({
      env: { CALLBACK_SECRET: callbackSecret, CALLBACK_ALLOW_HOSTS: `127.0.0.1:${await freePort()}` },
    });
  });
  after(async function () {
    await service.teardown();
    await receiver.close();
  });

  it('is accepted at submit and refused at delivery, whatever its spelling: the callback says why, the receiver gets nothing', async function () {
    for (const host of ['localhost', 'LOCALHOST.']) {
      const jobId = uniqueJobId('resolves-loopback');
      const submitted = await service.submit({
        type: 'sleep',
        input: { seconds: 0 },
        jobId,
        callbackUrl: `https://${host}:${receiver.port}/hook`,
      });
      assert.equal(submitted.status, 202, host);
      const job = await service.waitFor(jobId, (current) => current.callback?.status !== 'pending', 30_000);
      assert.deepEqual(
        { status: job.callback?.status, attempts: job.callback?.attempts, type: job.callback?.lastError?.type },
        { status: 'failed', attempts: 1, type: 'UnrecoverableError' },
        host,
      );
      assert.match(
        job.callback?.lastError?.message ?? '',
        /resolves to an address that is not public; give a public https URL/,
        host,
      );
      // Which address, or even its kind, would tell a tenant what the operator's names resolve to.
      assert.doesNotMatch(job.callback?.lastError?.message ?? '', /127\.0\.0\.1|::1|loopback/, host);
    }
    assert.equal(receiver.requests.length, 0);
  });
});

describe('A callback receiver that answers with a redirect', function () {
  let service: TestService;
  let redirecting: Receiver;
  let target: Receiver;
  before(async function () {
    target = await startReceiver(await freePort(), (res) => res.writeHead(204).end());
    redirecting = await startReceiver(await freePort(), (res) =>
      res.writeHead(302, { location: `http://127.0.0.1:${target.port}/hook` }).end(),
    );
    // Both are allow-listed: the redirect is refused for being one, not for where it points.
    const allow = `127.0.0.1:${redirecting.port},127.0.0.1:${target.port}`;
    service = await TestService.start({ env: { CALLBACK_SECRET: callbackSecret, CALLBACK_ALLOW_HOSTS: allow } });
  });
  after(async function () {
    await service.teardown();
    await redirecting.close();
    await target.close();
  });

  it("is not followed: delivery is recorded as failed, and the redirect's target gets nothing", async function () {
    const jobId = uniqueJobId('redirected');
    await service.submit({
      type: 'sleep',
      input: { seconds: 0 },
      jobId,
      callbackUrl: `http://127.0.0.1:${redirecting.port}/hook`,
    });
    const job = await service.waitFor(jobId, (current) => current.callback?.status !== 'pending', 30_000);
    assert.equal(job.callback?.status, 'failed');
    assert.equal(job.callback?.attempts, 1);
    assert.match(job.callback?.lastError?.message ?? '', /answered 302, a redirect, which is not followed/);
    assert.equal(redirecting.requests.length, 1);
    assert.equal(target.requests.length, 0);
  });
});
