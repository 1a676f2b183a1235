// A list cursor is Temporal's page token plus a check binding it to the query it pages: Temporal answers a mangled
// token with an internal error, so a cursor that fails the check is refused here as a 400.
import { createHash } from 'node:crypto';
import { RequestInvalidError } from './errors.js';

function cursorCheck(token: Uint8Array, query: string): string {
  return createHash('sha256').update(token).update(query).digest('base64url').slice(0, 12);
}

/** The opaque cursor of a page token, for the visibility query it pages. */
export function cursorOf(token: Uint8Array, query: string): string {
  return `${Buffer.from(token).toString('base64url')}.${cursorCheck(token, query)}`;
}

/** The page token of a cursor `cursorOf` gave for the same query; a RequestInvalidError for any other. */
export function pageTokenOf(cursor: string, query: string): Buffer {
  const [encoded = '', check] = cursor.split('.');
  const token = Buffer.from(encoded, 'base64url');
  if (check !== cursorCheck(token, query))
    throw new RequestInvalidError('cursor: is not a cursor this API gave for these filters');
  return token;
}
