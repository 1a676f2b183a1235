import { z } from 'zod';
import { JobId } from '../contract/job.js';
import { ScheduleId } from '../contract/schedule.js';
import { HookId } from '../contract/hooks.js';
import { operationExamples, pathParameterExamples } from './operation-examples.js';
import { components, operations, type ComponentName, type Operation } from './operations.js';

const requestBodies = new Set<string>([
  'SubmitJobBody',
  'JobBatchBody',
  'BulkJobsBody',
  'CreateScheduleBody',
  'CreateHookBody',
  'UpdateHookBody',
  'CodecPayloads',
]);
const pathParameters: Readonly<Record<string, z.ZodType>> = { jobId: JobId, scheduleId: ScheduleId, hookId: HookId };

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  });
  return rest;
}

/** Component schemas as JSON Schema: request bodies as clients send them, the rest as the API answers. */
export function componentSchemas(): Record<ComponentName, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(components).map(([name, schema]) => [
      name,
      jsonSchema(schema, requestBodies.has(name) ? 'input' : 'output'),
    ]),
  ) as Record<ComponentName, Record<string, unknown>>;
}

function parameters(operation: Operation): unknown[] {
  const inPath = [...operation.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: jsonSchema(pathParameters[name!] ?? JobId, 'input'),
    example: pathParameterExamples[name!],
  }));
  const inQuery = Object.entries(operation.query?.shape ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: false,
    schema: jsonSchema(schema as z.ZodType, 'input'),
  }));
  return [...inPath, ...inQuery];
}

/** The OpenAPI 3.1 document, made from the same zod schemas as the validation. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    const examples = operationExamples[`${operation.method.toUpperCase()} ${operation.path}`];
    const responses = Object.fromEntries(
      Object.entries(operation.responses).map(([status, answer]) => [
        status,
        {
          description: answer.description,
          ...(answer.schema
            ? {
                content: {
                  'application/json': {
                    schema: { $ref: `#/components/schemas/${answer.schema}` },
                    ...(examples?.responses?.[Number(status)] === undefined
                      ? {}
                      : { example: examples.responses[Number(status)] }),
                  },
                },
              }
            : answer.contentType
              ? { content: { [answer.contentType]: {} } }
              : {}),
        },
      ]),
    );
    (paths[operation.path] ??= {})[operation.method] = {
      summary: operation.summary,
      ...(operation.path.startsWith('/api/v1/') ? { security: operation.public ? [] : [{ bearer: [] }, {}] } : {}),
      parameters: parameters(operation),
      ...(operation.body
        ? {
            requestBody: {
              required: true,
              content: {
                'application/json': {
                  schema: { $ref: `#/components/schemas/${operation.body}` },
                  ...(examples?.requests ? { examples: examples.requests } : {}),
                },
              },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'durable-jobs', version: '1', description: 'A REST job service on Temporal.' },
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API key, when the service has keys configured' },
      },
    },
  };
}

export const docsPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>durable-jobs API</title><link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#docs' });</script>
</body>
</html>`;
