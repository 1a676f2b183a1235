import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { isPublicRoute } from '../../src/api/access.js';
import { parseTimestampedSignature, replayWindowSeconds, signatureRefusal } from '../../src/api/hook-signatures.js';
import { RequestInvalidError } from '../../src/api/errors.js';
import { formPayload, stripeEventId } from '../../src/api/hook-bodies.js';
import { deliveryJobId, hookInput, valueAtPointer } from '../../src/api/hooks.js';
import { CreateHookBody, maxHooksPerTenant, type NewHook } from '../../src/contract/hooks.js';
import { hookRegistryMaxBytes } from '../../src/contract/hook-limits.js';
import {
  createHook,
  creationRefusal,
  deleteHook,
  emptyHookRegistry,
  hooksOf,
  setHookEnabled,
} from '../../src/workflows/hook-registry-state.js';

const secret = 'whsec_unit-test-secret-0123456789';
const body = Buffer.from('{"action":"opened","number":7}');
const now = Date.UTC(2026, 10, 30, 12, 0, 0);
const hex = (...parts: string[]): string => {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(part);
  return mac.digest('hex');
};
const t = Math.floor(now / 1000);

describe("A hook delivery's signature", function () {
  it("is taken in GitHub's X-Hub-Signature-256 over the raw body, hex in either case", function () {
    assert.equal(
      signatureRefusal(secret, body, { 'x-hub-signature-256': `sha256=${hex(body.toString())}` }, now),
      undefined,
    );
    const upper = `sha256=${hex(body.toString()).toUpperCase()}`;
    assert.equal(signatureRefusal(secret, body, { 'x-hub-signature-256': upper }, now), undefined);
  });

  it('is taken in a Stripe-style t=,v1= header over "<t>.<body>", any v1 of several matching', function () {
    const good = hex(`${t}.`, body.toString());
    const other = 'ab'.repeat(32);
    assert.equal(signatureRefusal(secret, body, { 'stripe-signature': `t=${t},v1=${good}` }, now), undefined);
    assert.equal(
      signatureRefusal(secret, body, { 'stripe-signature': `t=${t},v1=${other},v1=${good},v0=x` }, now),
      undefined,
    );
    assert.equal(signatureRefusal(secret, body, { 'webhook-signature': `t=${t}, v1=${good}` }, now), undefined);
  });

  it('is refused over another body, under another secret, or malformed', function () {
    const refusals = [
      { 'x-hub-signature-256': `sha256=${hex('{"action":"closed"}')}` },
      { 'x-hub-signature-256': `sha256=${createHmac('sha256', 'other').update(body).digest('hex')}` },
      { 'x-hub-signature-256': `sha256=${hex(body.toString()).slice(0, 63)}` },
      { 'x-hub-signature-256': hex(body.toString()) },
      { 'x-hub-signature-256': [`sha256=${hex(body.toString())}`, `sha256=${hex(body.toString())}`] },
      { 'stripe-signature': `t=${t},v1=${hex(body.toString())}` },
      { 'stripe-signature': `v1=${hex(`${t}.`, body.toString())}` },
      { 'stripe-signature': `t=${t}` },
      { 'stripe-signature': `t=${t},t=${t},v1=${hex(`${t}.`, body.toString())}` },
      { 'x-hub-signature': `sha1=${createHmac('sha1', secret).update(body).digest('hex')}` },
      {},
    ];
    for (const headers of refusals) assert.ok(signatureRefusal(secret, body, headers, now), JSON.stringify(headers));
  });

  it('is refused, saying so, when its header was sent twice; a header of another format sent twice is passed over', function () {
    const stripe = `t=${t},v1=${hex(`${t}.`, body.toString())}`;
    const github = `sha256=${hex(body.toString())}`;
    assert.equal(
      signatureRefusal(secret, body, { 'stripe-signature': [stripe, stripe] }, now),
      'stripe-signature was given 2 times; send it once (a sender signing with two secrets puts both signatures in one header)',
    );
    assert.match(
      signatureRefusal(secret, body, { 'x-hub-signature-256': [github, github, github] }, now) ?? '',
      /^x-hub-signature-256 was given 3 times; send it once /,
    );
    assert.equal(
      signatureRefusal(secret, body, { 'x-other-signature': ['opaque', 'opaque'], 'stripe-signature': [stripe] }, now),
      undefined,
    );
  });

  it(`is refused when its timestamp is more than ${replayWindowSeconds} s from now, either way`, function () {
    for (const [at, refused] of [
      [t - replayWindowSeconds - 1, true],
      [t + replayWindowSeconds + 1, true],
      [t - replayWindowSeconds + 1, false],
      [t + 30, false],
    ] as const) {
      const header = { 'stripe-signature': `t=${at},v1=${hex(`${at}.`, body.toString())}` };
      assert.equal(signatureRefusal(secret, body, header, now) !== undefined, refused, String(at - t));
    }
  });

  it("GitHub's header decides when present: a good Stripe-style one beside a bad GitHub one is refused", function () {
    const headers = {
      'x-hub-signature-256': 'sha256=' + '0'.repeat(64),
      'stripe-signature': `t=${t},v1=${hex(`${t}.`, body.toString())}`,
    };
    assert.ok(signatureRefusal(secret, body, headers, now));
  });

  it('parses the timestamped format strictly, keeping at most 8 signatures', function () {
    assert.deepEqual(parseTimestampedSignature(`t=12,v1=${'a'.repeat(64)}`), {
      timestamp: 12,
      signatures: ['a'.repeat(64)],
    });
    assert.equal(parseTimestampedSignature(`t=-1,v1=${'a'.repeat(64)}`), undefined);
    assert.equal(parseTimestampedSignature(`t=1e9,v1=${'a'.repeat(64)}`), undefined);
    assert.equal(parseTimestampedSignature('garbage'), undefined);
    assert.equal(
      parseTimestampedSignature(
        `t=1,${Array(9)
          .fill(`v1=${'a'.repeat(64)}`)
          .join(',')}`,
      ),
      undefined,
    );
  });
});

describe("A hook delivery's input and job id", function () {
  const event = { repository: { full_name: 'acme/site', 'a/b': 1, 'm~n': 2 }, commits: [{ id: 'c1' }], zero: 0 };

  it('picks fields by JSON pointer (RFC 6901), leaving out a field whose pointer finds nothing', function () {
    assert.equal(valueAtPointer(event, '/repository/full_name'), 'acme/site');
    assert.equal(valueAtPointer(event, '/repository/a~1b'), 1);
    assert.equal(valueAtPointer(event, '/repository/m~0n'), 2);
    assert.equal(valueAtPointer(event, '/commits/0/id'), 'c1');
    assert.equal(valueAtPointer(event, '/commits/01/id'), undefined);
    assert.equal(valueAtPointer(event, '/commits/length'), undefined);
    assert.equal(valueAtPointer(event, '/repository/constructor'), undefined);
    assert.equal(valueAtPointer(event, '/zero'), 0);
    assert.deepEqual(valueAtPointer(event, ''), event);
    assert.deepEqual(hookInput({ repo: '/repository/full_name', missing: '/nope', n: '/zero' }, event), {
      repo: 'acme/site',
      n: 0,
    });
    assert.deepEqual(hookInput(null, event), event);
  });

  it('names the job after the hook and the delivery: the same for a redelivery, another for another hook', function () {
    const id = deliveryJobId('hk_a', 'delivery-1');
    assert.match(id, /^hook-[0-9a-f]{40}$/);
    assert.equal(deliveryJobId('hk_a', 'delivery-1'), id);
    assert.notEqual(deliveryJobId('hk_b', 'delivery-1'), id);
    assert.notEqual(deliveryJobId('hk_a', 'delivery-2'), id);
  });

  it('refuses a mapping that is not JSON pointers, or too many fields', function () {
    assert.equal(CreateHookBody.safeParse({ type: 'sleep', inputFrom: { a: 'repository' } }).success, false);
    assert.equal(CreateHookBody.safeParse({ type: 'sleep', inputFrom: { a: '/x~2' } }).success, false);
    assert.equal(CreateHookBody.safeParse({ type: 'sleep', inputFrom: {} }).success, false);
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`f${i}`, `/f${i}`]));
    assert.equal(CreateHookBody.safeParse({ type: 'sleep', inputFrom: many }).success, false);
    assert.equal(CreateHookBody.safeParse({ type: 'sleep', inputFrom: { a: '/x~1y' } }).success, true);
  });
});

describe("A hook delivery's body", function () {
  const form = (text: string): unknown => formPayload(Buffer.from(text, 'latin1'));
  const refusal = (text: string): string => {
    try {
      form(text);
    } catch (err) {
      assert.ok(err instanceof RequestInvalidError, String(err));
      return err.message;
    }
    assert.fail(`${text} was taken`);
  };

  it("takes GitHub's form: one payload field, + a space, %XX a UTF-8 byte, empty pieces skipped", function () {
    const event = { message: 'café ✓ & co', n: [1, 2] };
    assert.deepEqual(form(new URLSearchParams({ payload: JSON.stringify(event) }).toString()), event);
    assert.deepEqual(form(`payload=${encodeURIComponent(JSON.stringify(event))}`), event);
    assert.deepEqual(form('&payload=%7B%22a%22:+1%7D&'), { a: 1 });
    assert.deepEqual(form('pay%6Coad=%5B%5D'), []);
  });

  it('refuses any other form, saying what is wrong and what to send', function () {
    assert.match(refusal('payload=1&payload=2'), /2 payload fields;.*application\/json/);
    assert.match(refusal('payload=1&pay%6coad=2'), /2 payload fields/);
    assert.match(refusal('Payload=1'), /no payload field/);
    assert.match(refusal(''), /no payload field/);
    assert.match(refusal('payload'), /payload: malformed JSON/);
    assert.match(refusal('payload=1&x=2'), /fields besides payload/);
    assert.match(refusal('payload=%7'), /% without two hex digits/);
    assert.match(refusal('payload=%zz'), /% without two hex digits/);
    assert.match(refusal('pay%load=1'), /% without two hex digits/);
    assert.match(refusal('payload=%22%C3%28%22'), /payload: the body is not valid UTF-8/);
    assert.match(refusal(`payload=${'%5B'.repeat(40)}${'%5D'.repeat(40)}`), /payload: JSON nested deeper/);
  });

  it("reads Stripe's event id, evt_…, from a JSON object's own id", function () {
    assert.equal(
      stripeEventId({ id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy', object: 'event' }),
      'evt_1NG8Du2eZvKYlo2CUI79vXWy',
    );
    assert.equal(stripeEventId({ id: 'in_123', object: 'invoice' }), undefined);
    assert.equal(stripeEventId({ id: 7 }), undefined);
    assert.equal(stripeEventId([{ id: 'evt_1' }]), undefined);
    assert.equal(stripeEventId('evt_1'), undefined);
    assert.equal(stripeEventId(null), undefined);
    assert.equal(stripeEventId(Object.create({ id: 'evt_inherited' })), undefined);
  });
});

describe('The public path of hooks', function () {
  const hookId = `hk_${'a'.repeat(32)}`;
  it('is POST /api/v1/hooks/<hookId> spelled exactly, nothing near it', function () {
    assert.equal(isPublicRoute('POST', `/api/v1/hooks/${hookId}`), true);
    for (const [method, path] of [
      ['GET', `/api/v1/hooks/${hookId}`],
      ['PATCH', `/api/v1/hooks/${hookId}`],
      ['DELETE', `/api/v1/hooks/${hookId}`],
      ['POST', `/api/v1/hooks/${hookId}/`],
      ['POST', `/API/v1/hooks/${hookId}`],
      ['POST', `/api/v1/hooks/${hookId}/../../jobs`],
      ['POST', `/api/v1/hooks/hk_${'a'.repeat(31)}%2F`],
      ['POST', `/api/v1/hooks/hk_${'a'.repeat(33)}`],
      ['POST', '/api/v1/hooks'],
      ['POST', `/api/v1/hooks/${hookId}\n`],
    ]) {
      assert.equal(isPublicRoute(method!, path!), false, `${method} ${JSON.stringify(path)}`);
    }
  });
});

describe('The hook registry', function () {
  const hook = (hookId: string, tenant = 'acme'): NewHook => ({
    hookId,
    tenant,
    type: 'sleep',
    inputFrom: null,
    priority: 'normal',
    enabled: true,
    description: null,
    secret,
  });

  it("keeps each tenant's hooks apart: another tenant's id is as if absent", function () {
    let state = createHook(emptyHookRegistry(), hook('hk_1'), now).state;
    state = createHook(state, hook('hk_2', 'globex'), now + 1).state;
    assert.deepEqual(
      hooksOf(state, 'acme').map((h) => h.hookId),
      ['hk_1'],
    );
    assert.equal(setHookEnabled(state, { tenant: 'globex', hookId: 'hk_1', enabled: false }, now).hook, null);
    assert.equal(deleteHook(state, { tenant: 'globex', hookId: 'hk_1' }).deleted, false);
    const disabled = setHookEnabled(state, { tenant: 'acme', hookId: 'hk_1', enabled: false }, now + 5);
    assert.equal(disabled.hook?.enabled, false);
    assert.equal(disabled.hook?.updatedAt, new Date(now + 5).toISOString());
    const deleted = deleteHook(disabled.state, { tenant: 'acme', hookId: 'hk_1' });
    assert.equal(deleted.deleted, true);
    assert.equal(deleted.state.hooks['hk_1'], undefined);
  });

  it(`refuses a taken id, and a hook past a tenant's ${maxHooksPerTenant}`, function () {
    let state = emptyHookRegistry();
    for (let i = 0; i < maxHooksPerTenant; i++) state = createHook(state, hook(`hk_${i}`), now).state;
    assert.equal(creationRefusal(state, hook('hk_0', 'globex'))?.type, 'HookExists');
    assert.equal(creationRefusal(state, hook('hk_new'))?.type, 'HookLimitReached');
    assert.equal(creationRefusal(state, hook('hk_new', 'globex')), undefined);
  });

  it(`refuses a hook that would take the registry past ${hookRegistryMaxBytes / 1024} KiB of JSON, whatever the counts`, function () {
    // Hooks as big as a body may make them: 32 inputFrom fields of 64-character names and 512-character pointers.
    const inputFrom = Object.fromEntries(
      Array.from({ length: 32 }, (_, i) => [`f${String(i).padStart(2, '0')}${'x'.repeat(61)}`, `/${'p'.repeat(511)}`]),
    );
    const big = (hookId: string, tenant: string): NewHook => ({ ...hook(hookId, tenant), inputFrom });
    let state = emptyHookRegistry();
    let created = 0;
    // Tenants of 50 hooks each, well within both counts, until one is refused.
    for (let refused = undefined; refused === undefined; created++) {
      const next = big(`hk_${created}`, `tenant-${Math.floor(created / 50)}`);
      refused = creationRefusal(state, next);
      if (refused === undefined) state = createHook(state, next, now).state;
      else {
        assert.equal(refused.type, 'HookLimitReached');
        assert.match(refused.message, /may take 1024 KiB as JSON, and with this one they would take 10\d\d KiB/);
      }
    }
    assert.ok(created > 40 && created < 60, `refused at the ${created}th hook of about 19 KB`);
    assert.ok(Buffer.byteLength(JSON.stringify(state)) <= hookRegistryMaxBytes);
    // A small one may still fit; a deleted big one makes room for another.
    assert.equal(creationRefusal(state, hook('hk_small', 'other')), undefined);
    const roomy = deleteHook(state, { tenant: 'tenant-0', hookId: 'hk_0' }).state;
    assert.equal(creationRefusal(roomy, big('hk_again', 'tenant-0')), undefined);
  });
});
