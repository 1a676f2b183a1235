// The OpenAPI document's examples (src/api/operation-examples.ts): one for every operation that takes or answers
// JSON, each valid under the very schema the API validates with or answers by, so Swagger UI's "Try it out" starts
// from a request the API accepts.
import assert from 'node:assert/strict';
import { z } from 'zod';
import { HookId } from '../../src/contract/hooks.js';
import { JobId } from '../../src/contract/job.js';
import { ScheduleId } from '../../src/contract/schedule.js';
import { openApiDocument } from '../../src/api/openapi.js';
import { operationExamples, pathParameterExamples } from '../../src/api/operation-examples.js';
import { components, operations } from '../../src/api/operations.js';

/** The parts of an operation of the document this test reads. */
interface DocumentOperation {
  readonly parameters: readonly { readonly example?: unknown }[];
  readonly requestBody?: { readonly content: Record<string, MediaType | undefined> };
  readonly responses: Record<string, { readonly content?: Record<string, MediaType | undefined> } | undefined>;
}
interface MediaType {
  readonly examples?: Record<string, unknown>;
  readonly example?: { readonly status?: unknown };
}

const keyOf = (operation: { method: string; path: string }) => `${operation.method.toUpperCase()} ${operation.path}`;

function assertValid(schema: z.ZodType, value: unknown, what: string): void {
  const parsed = schema.safeParse(value);
  assert.ok(parsed.success, `${what}: ${parsed.success ? '' : z.prettifyError(parsed.error)}`);
}

describe('The OpenAPI examples', function () {
  it('give every operation with a JSON body request examples its body schema accepts', function () {
    for (const operation of operations.filter((candidate) => candidate.body)) {
      const requests = operationExamples[keyOf(operation)]?.requests ?? {};
      assert.ok(Object.keys(requests).length > 0, `${keyOf(operation)} has no request example`);
      for (const [name, { value }] of Object.entries(requests)) {
        assertValid(components[operation.body!], value, `${keyOf(operation)} example ${name}`);
      }
    }
  });

  it('give every JSON success answer an example its schema accepts', function () {
    for (const operation of operations) {
      for (const [status, answer] of Object.entries(operation.responses)) {
        if (Number(status) >= 300 || !answer.schema) continue;
        const example = operationExamples[keyOf(operation)]?.responses?.[Number(status)];
        assert.ok(example !== undefined, `${keyOf(operation)} ${status} has no example`);
        assertValid(components[answer.schema], example, `${keyOf(operation)} ${status}`);
      }
    }
  });

  it('name only operations the API has, and path parameters their schemas accept', function () {
    const known = new Set(operations.map(keyOf));
    for (const key of Object.keys(operationExamples)) assert.ok(known.has(key), `examples of no operation: ${key}`);
    const schemas: Record<string, z.ZodType> = { jobId: JobId, scheduleId: ScheduleId, hookId: HookId };
    for (const [name, value] of Object.entries(pathParameterExamples)) assertValid(schemas[name]!, value, name);
  });

  it('are in the document where Swagger UI reads them', function () {
    const paths = openApiDocument()['paths'] as Record<string, Record<string, DocumentOperation>>;
    const submit = paths['/api/v1/jobs']!['post']!;
    assert.deepEqual(Object.keys(submit.requestBody?.content['application/json']?.examples ?? {}), [
      'sleep',
      'command',
      'delayed',
    ]);
    assert.equal(submit.responses['202']?.content?.['application/json']?.example?.status, 'queued');
    const poll = paths['/api/v1/jobs/{jobId}']!['get']!;
    assert.equal(poll.parameters[0]?.example, pathParameterExamples['jobId']);
  });
});
