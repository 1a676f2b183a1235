// A JSON value the API holds as its UTF-8 text rather than as objects: a big input or result (issue 21).

const utf8 = new TextDecoder();

/**
 * A JSON value kept as the bytes of its JSON text. A half-megabyte input parsed at every read of its job was strings
 * of its size for the API's collector; held as text (src/jobs/shown-json.ts), it is never parsed, and answers write
 * its bytes as they are (`writtenJson`). Where it is read as JSON data after all, `toJSON` parses it, so that
 * `JSON.stringify` of anything holding one writes the same JSON value as of the value itself.
 */
export class JsonText {
  constructor(readonly bytes: Uint8Array) {}

  toJSON(): unknown {
    return JSON.parse(utf8.decode(this.bytes));
  }
}
