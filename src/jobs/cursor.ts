// A list cursor is Temporal's page token plus an HMAC, under the API's cursor key, of the token and the visibility query
// it pages (the tenant and the filters). Temporal answers a mangled token with an internal error that its client
// retries, and an unkeyed check can be recomputed by anyone, so a cursor that fails the HMAC is refused here as a 400
// before any call to Temporal.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { RequestInvalidError } from './errors.js';

/**
 * Characters of the tag a cursor carries: 72 bits of HMAC-SHA256 (the contract's cursor pattern). Each guess costs a
 * request, so no forger gets near 2^72 of them.
 */
const tagLength = 12;

/** Signs page tokens into cursors and checks cursors back into page tokens, under one key. */
export class ListCursors {
  private readonly key: Buffer;

  /**
   * `key`: JOBS_CURSOR_KEY, shared by every API process behind one address. Without one, a key of this process's
   * own: its cursors are refused by any other process, and by this one after a restart.
   */
  constructor(key?: Buffer) {
    this.key = key ?? randomBytes(32);
  }

  /** The opaque cursor of a page token, for the visibility query it pages. */
  cursorOf(token: Uint8Array, query: string): string {
    return `${Buffer.from(token).toString('base64url')}.${this.tag(token, query)}`;
  }

  /** The page token of a cursor `cursorOf` gave for the same query under the same key; a RequestInvalidError for any other. */
  pageTokenOf(cursor: string, query: string): Buffer {
    const [encoded = '', tag = '', ...rest] = cursor.split('.');
    const token = Buffer.from(encoded, 'base64url');
    const expected = Buffer.from(this.tag(token, query));
    const given = Buffer.from(tag);
    if (rest.length > 0 || given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new RequestInvalidError('cursor: is not a cursor this API gave for these filters');
    return token;
  }

  private tag(token: Uint8Array, query: string): string {
    // The query's length first, so that no split of query and token can be shifted into another.
    const length = Buffer.alloc(4);
    length.writeUInt32BE(Buffer.byteLength(query));
    return createHmac('sha256', this.key)
      .update(length)
      .update(query)
      .update(token)
      .digest('base64url')
      .slice(0, tagLength);
  }
}
