/** One Server-Sent Event: its type (`message` when the stream names none) and its data lines, joined. */
export interface ServerSentEvent {
  readonly event: string;
  readonly data: string;
}

const lineEnd = /\r\n|\r|\n/g;

/** An event (its lines, data and the line being read) longer than this ends the stream: the job JSON is far smaller. */
export const maxEventBytes = 16 * 1024 * 1024;

/** Thrown when a stream sends an event over `maxEventBytes`: a broken or hostile server, whose stream is closed. */
export class EventTooLargeError extends Error {
  override readonly name = 'EventTooLargeError';
  constructor() {
    super(`the stream sent an event over ${maxEventBytes / 1024 / 1024} MiB`);
  }
}

/**
 * Reads a `text/event-stream` body by the WHATWG rules: `event:` and `data:` fields, comment lines (`:`)
 * ignored, any line ending; a blank line dispatches an event, so an unfinished one at the end is dropped.
 * Leaving early (break, return, throw in the consumer's loop) cancels the body, which closes the connection.
 * Memory stays bounded: an event over `maxEventBytes` (however its lines are cut) throws EventTooLargeError.
 */
export async function* readEventStream(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  // Where the search for a line end resumes: the buffer before it has none, so each byte is scanned once.
  let searchFrom = 0;
  let event = '';
  let data: string[] = [];
  let dataLength = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      for (;;) {
        lineEnd.lastIndex = searchFrom;
        const match = lineEnd.exec(buffer);
        // A CR at the very end may be the first half of a CRLF split across chunks.
        if (!match || (!done && match[0] === '\r' && match.index === buffer.length - 1)) {
          searchFrom = match ? match.index : buffer.length;
          break;
        }
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        searchFrom = 0;
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          dataLength = 0;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
        if (field === 'event') event = value;
        else if (field === 'data') {
          data.push(value);
          dataLength += value.length + 1;
        }
      }
      // Characters, each at least a byte of UTF-8: over the bound in characters is over it in bytes.
      if (dataLength + buffer.length > maxEventBytes) throw new EventTooLargeError();
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
