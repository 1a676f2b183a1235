import type { Context } from 'koa';
import { ApiError, PayloadTooLargeError, RequestInvalidError } from './errors.js';
import { turnForWork } from '../jobs/index.js';

/** Deeper JSON than this is refused: nothing in the contract nests so far, and deep values crash serializers. */
export const maxJsonDepth = 32;

/** Thrown when a body is sent with a content type other than JSON. */
export class UnsupportedMediaTypeError extends ApiError {
  override readonly name = 'UnsupportedMediaTypeError';
  constructor(contentType: string, whatToSend = 'send application/json') {
    super('unsupported_media_type', `content type "${contentType}" is not supported; ${whatToSend}`);
  }
}

/**
 * Thrown when a body is sent compressed (any Content-Encoding but identity): nothing here inflates one, so that the
 * body limit counts what is held, and a hook's signature is over the bytes as sent.
 */
export class UnsupportedContentEncodingError extends ApiError {
  override readonly name = 'UnsupportedContentEncodingError';
  constructor(contentEncoding: string) {
    super(
      'unsupported_media_type',
      `Content-Encoding "${contentEncoding}" is not supported; send the body uncompressed`,
      undefined,
      {
        headers: { 'Accept-Encoding': 'identity' },
      },
    );
  }
}

function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > maxJsonDepth) return deepest;
    for (const child of Object.values(current)) stack.push({ value: child, depth: depth + 1 });
  }
  return deepest;
}

/** A refused body is read and dropped up to this much, so the client, still sending, hears the 413. */
const discardCapBytes = 64 * 1024 * 1024;

/**
 * The body, up to `limitBytes`. Past it (declared or counted, however the body is framed) the rest is read and
 * dropped in the same loop, up to a cap, then the 413 closes the connection: closing the socket while the
 * client still sends would show it a broken pipe rather than the answer, and a second loop over the stream
 * after the first one ended would find it destroyed.
 */
export async function readBody(ctx: Context, limitBytes: number): Promise<Buffer> {
  const contentEncoding = ctx.get('content-encoding');
  if (!['', 'identity'].includes(contentEncoding.trim().toLowerCase()))
    throw new UnsupportedContentEncodingError(contentEncoding);
  let tooLarge = Number(ctx.get('content-length')) > limitBytes;
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    received += chunk.length;
    tooLarge ||= received > limitBytes;
    if (!tooLarge) chunks.push(chunk);
    else if (received > discardCapBytes) break;
  }
  if (!tooLarge) return Buffer.concat(chunks);
  ctx.set('Connection', 'close');
  throw new PayloadTooLargeError(limitBytes);
}

/** Whether the request declares a body (a length other than 0, or a chunked one). */
export function hasBody(ctx: Context): boolean {
  const declaredLength = ctx.get('content-length');
  return (declaredLength !== '' && declaredLength !== '0') || ctx.get('transfer-encoding') !== '';
}

/**
 * The bytes of a JSON body, read up to `limitBytes` (413 past it, 415 for another content type); `undefined` when
 * the request has none. A hook's delivery checks its signature over these bytes before they are parsed.
 */
export async function readJsonBytes(ctx: Context, limitBytes: number): Promise<Buffer | undefined> {
  if (!hasBody(ctx)) return undefined;
  if (!ctx.is('application/json')) throw new UnsupportedMediaTypeError(ctx.get('content-type') || '(none)');
  return readBody(ctx, limitBytes);
}

/** JSON from a body's bytes: UTF-8, parsed, no deeper than maxJsonDepth. */
export function parseJsonBytes(body: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new RequestInvalidError('the body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new RequestInvalidError(`malformed JSON: ${(err as Error).message}`);
  }
  if (depthOf(value) > maxJsonDepth) throw new RequestInvalidError(`JSON nested deeper than ${maxJsonDepth} levels`);
  return value;
}

/**
 * Reads a JSON body; `undefined` when the request has none. A big body is parsed, and its request goes on to what it
 * does next until its first call out (checks, hash, the start's encoding), in a turn of its own: ten half-megabyte
 * submits completing together ran back to back for a few hundred milliseconds, with `/healthz` waiting (issue 21).
 */
export async function readJsonBody(ctx: Context, limitBytes: number): Promise<unknown> {
  const body = await readJsonBytes(ctx, limitBytes);
  if (body === undefined) return undefined;
  await turnForWork(body.length);
  return parseJsonBytes(body);
}
