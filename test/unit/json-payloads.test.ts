// The clients' payload converter (packages/worker/json-payloads.cjs) writes the bytes Temporal's default converter
// writes, and reads them back the same, so workers (which keep the default) and other SDKs read what the API writes.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { defaultPayloadConverter, type PayloadConverter } from '@temporalio/common';
import { jsonPayloadConverterPath } from '../../src/temporal/payload-codec.js';

const { payloadConverter } = createRequire(import.meta.url)(jsonPayloadConverterPath) as {
  payloadConverter: PayloadConverter;
};

const values: unknown[] = [
  { jobId: 'job-1', input: { text: 'é 中 😀 "quoted" \\ \n', lone: '\ud800', n: -1.5e-7 } },
  '0'.repeat(480_000),
  [1, null, true, { nested: [[]] }],
  new Uint8Array([0, 1, 255]),
  null,
];

describe("the clients' payload converter", () => {
  it("writes the default converter's payloads, byte for byte", () => {
    for (const value of values) {
      const ours = payloadConverter.toPayload(value);
      const theirs = defaultPayloadConverter.toPayload(value);
      assert.deepEqual(
        { ...ours, data: Buffer.from(ours?.data ?? []) },
        { ...theirs, data: Buffer.from(theirs?.data ?? []) },
      );
    }
    assert.equal(
      Buffer.from(payloadConverter.toPayload(undefined)?.metadata?.['encoding'] ?? []).toString(),
      'binary/null',
    );
  });

  it('reads back what either converter wrote', () => {
    for (const value of values) {
      const written = defaultPayloadConverter.toPayload(value);
      assert.deepEqual(payloadConverter.fromPayload(written), defaultPayloadConverter.fromPayload(written));
      assert.deepEqual(payloadConverter.fromPayload(payloadConverter.toPayload(value)), value);
    }
  });
});
