// Checks real responses against the OpenAPI document: every answer's status must be documented for its
// operation, and its JSON body must satisfy the documented schema.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { componentSchemas, operations, type Operation } from '../../src/api/openapi.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
const validators = new Map<string, ValidateFunction>(
  Object.entries(componentSchemas()).map(([name, schema]) => [name, ajv.compile(schema)]),
);

function templateToRegExp(template: string): RegExp {
  return new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
}
const matchers = operations.map((operation) => ({ operation, pattern: templateToRegExp(operation.path) }));

export function findOperation(method: string, path: string): Operation | undefined {
  const pathOnly = path.split('?')[0]!;
  return matchers.find(({ operation, pattern }) => operation.method === method.toLowerCase() && pattern.test(pathOnly))?.operation;
}

/** Throws when a response is not what the document says this operation answers. */
export function assertConforms(method: string, path: string, status: number, body: unknown): void {
  const operation = findOperation(method, path);
  if (!operation) return; // Unknown routes and wrong methods answer the error body, checked below by status.
  const answer = operation.responses[status];
  if (!answer) throw new Error(`${method} ${path} answered ${status}, which the OpenAPI document does not list`);
  if (!answer.schema) return;
  const validate = validators.get(answer.schema)!;
  if (!validate(body)) {
    throw new Error(`${method} ${path} ${status} does not match ${answer.schema}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
  }
}
