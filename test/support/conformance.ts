// Checks real responses against the OpenAPI document: every answer's status must be documented for its
// operation, and its JSON body must satisfy the documented schema.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { componentSchemas } from '../../src/api/openapi.js';
import { operations, type Operation } from '../../src/api/operations.js';

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
  return matchers.find(({ operation, pattern }) => operation.method === method.toLowerCase() && pattern.test(pathOnly))
    ?.operation;
}

/** The Swagger UI files /docs loads: served, but left out of the document on purpose (as the route test does). */
const docsAsset = /^\/docs\/assets\/[^/?]+(\?.*)?$/;

/**
 * Throws when a response is not what the document says. A request that matches no documented operation (an
 * unknown path, a documented path with another method, a spelling sent to provoke a refusal) must be refused:
 * 401, 403 (an open API's unknown Host), 404 or 405 with the error body, or a bodiless 400 from Node's HTTP parser, which never reaches the app.
 * HEAD is read as GET, and its answer has no body to check.
 */
export function assertConforms(method: string, path: string, status: number, body: unknown): void {
  const head = method.toUpperCase() === 'HEAD';
  const operation = findOperation(head ? 'GET' : method, path);
  if (!operation) {
    if ((head || method.toUpperCase() === 'GET') && docsAsset.test(path) && status === 200) return;
    const parserRefusal = status === 400 && (body === undefined || body === '');
    if (parserRefusal) return;
    if (![401, 403, 404, 405].includes(status))
      throw new Error(`${method} ${path} matches no documented operation, yet answered ${status}`);
    if (!head && !validators.get('ErrorBody')!(body))
      throw new Error(`${method} ${path} ${status} is not the error body: ${JSON.stringify(body).slice(0, 500)}`);
    return;
  }
  const answer = operation.responses[status];
  if (!answer) throw new Error(`${method} ${path} answered ${status}, which the OpenAPI document does not list`);
  if (!answer.schema || head) return;
  const validate = validators.get(answer.schema)!;
  if (!validate(body)) {
    throw new Error(
      `${method} ${path} ${status} does not match ${answer.schema}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`,
    );
  }
}
