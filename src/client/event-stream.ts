/** One Server-Sent Event: its type (`message` when the stream names none) and its data lines, joined. */
export interface ServerSentEvent {
  readonly event: string;
  readonly data: string;
}

const lineEnd = /\r\n|\r|\n/;

/**
 * Reads a `text/event-stream` body by the WHATWG rules: `event:` and `data:` fields, comment lines (`:`)
 * ignored, any line ending; a blank line dispatches an event, so an unfinished one at the end is dropped.
 * Leaving early (break, return, throw in the consumer's loop) cancels the body, which closes the connection.
 */
export async function* readEventStream(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let match: RegExpExecArray | null;
      while ((match = lineEnd.exec(buffer))) {
        // A CR at the very end may be the first half of a CRLF split across chunks.
        if (!done && match[0] === '\r' && match.index === buffer.length - 1) break;
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
