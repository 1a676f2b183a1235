// The service's parts as child processes (dev/parts.ts), and HTTP requests to the API whose answers are checked
// against the OpenAPI document.
import { request, type IncomingHttpHeaders } from 'node:http';
import { assertConforms } from './conformance.js';

export {
  buildPartSources,
  freePort,
  Part,
  PartNotReadyError,
  startApiPart,
  startTemporalPart,
  startWorkerPart,
  stopAllParts,
  type ApiPartOptions,
  type TemporalPartOptions,
  type WorkerPartOptions,
} from '../../dev/parts.js';

export interface HttpReply {
  readonly status: number;
  readonly text: string;
  readonly headers: IncomingHttpHeaders;
}

export interface HttpRequestOptions {
  readonly method?: string;
  readonly body?: string | Uint8Array;
  readonly contentType?: string;
  /** A list is sent as that many header lines. */
  readonly headers?: Record<string, string | string[]>;
  /** Sent byte for byte in place of the URL's path: a URL would normalise `..`, `.` and some escapes away. */
  readonly rawPath?: string;
}

/**
 * One HTTP request to the API on a connection of its own, its answer checked against the OpenAPI document
 * (`assertConforms`; a JSON body that is not JSON fails too). A pooled keep-alive connection that the server
 * closes as idle just as a request goes out on it fails that request ("other side closed"); on a busy machine
 * that is common.
 */
export async function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpReply> {
  const { method = 'GET', body, contentType = 'application/json', rawPath } = options;
  const headers = {
    ...(body === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(body) }),
    ...options.headers,
  };
  const { hostname, port, pathname, search } = new URL(url);
  const path = rawPath ?? pathname + search;
  const reply = await new Promise<HttpReply>((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
      );
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
  const isJson = reply.headers['content-type']?.startsWith('application/json') ?? false;
  assertConforms(method, path, reply.status, isJson && reply.text ? JSON.parse(reply.text) : reply.text);
  return reply;
}
