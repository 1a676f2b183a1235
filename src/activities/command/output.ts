import type { JobContext } from '@durable-jobs/worker';
import { attemptLogLimits, type AttemptLogLevel } from '../../contract/job-type-declaration.js';

/** Each of stdout and stderr is kept up to this many bytes; the rest is dropped and `truncated` set. */
export const outputLimitBytes = 64 * 1024;
/** A line `::progress <percent> [message]` on stdout reports progress. */
const progressLine = /^::progress (\d{1,3}(?:\.\d+)?)(?: (.*))?$/;

/** A failed command's error carries the last this many bytes of each of stdout and stderr. */
export const outputTailBytes = 4096;

export interface Collected {
  push(chunk: Buffer): void;
  /** The first `limit` bytes. */
  text(): string;
  truncated(): boolean;
  /** The last `outputTailBytes` bytes, however much came before them, and whether anything did. */
  tail(): { text: string; cut: boolean };
}

export function collect(limit: number): Collected {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = false;
  let seen = 0;
  let tail = Buffer.alloc(0);
  return {
    push(chunk) {
      const room = limit - kept;
      if (chunk.length > room) dropped = true;
      if (room > 0) {
        const part = chunk.subarray(0, room);
        chunks.push(part);
        kept += part.length;
      }
      seen += chunk.length;
      // A copy: a view would keep the whole chunk alive.
      tail = Buffer.from(Buffer.concat([tail, chunk.subarray(-outputTailBytes)]).subarray(-outputTailBytes));
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
    truncated: () => dropped,
    tail: () => {
      // From a character's first byte: a tail starting inside one would hide the start of a masked value behind U+FFFD.
      let start = 0;
      while (start < 3 && start < tail.length && (tail[start]! & 0xc0) === 0x80) start++;
      return { text: tail.subarray(start).toString('utf8'), cut: seen > tail.length - start };
    },
  };
}

/** Env values shorter than this are not masked: `***` for every "1" or "yes" would garble output and hide nothing. */
export const maskedValueMinLength = 4;

/**
 * Replaces each of the values (of at least 4 characters) in the text with `***`, and, when the text was cut,
 * a start of one at its very end (`cut`), an end of one at its very start (`cutAtStart`, a tail of the output):
 * output, an error message and progress never carry a caller's env value.
 */
export function masker(values: readonly string[]): (text: string, cut?: boolean, cutAtStart?: boolean) => string {
  const secrets = [...new Set(values.filter((value) => value.length >= maskedValueMinLength))].sort(
    (a, b) => b.length - a.length,
  );
  return (text, cut = false, cutAtStart = false) => {
    let masked = text;
    for (const secret of secrets) masked = masked.split(secret).join('***');
    for (const secret of secrets) {
      for (let length = secret.length - 1; cut && length > 0; length--) {
        if (masked.endsWith(secret.slice(0, length))) {
          masked = `${masked.slice(0, -length)}***`;
          break;
        }
      }
      for (let length = secret.length - 1; cutAtStart && length > 0; length--) {
        if (masked.startsWith(secret.slice(-length))) {
          masked = `***${masked.slice(length)}`;
          break;
        }
      }
    }
    return masked;
  };
}

/** Progress lines are short: a longer line is passed over, so a command printing no newline costs no memory. */
const progressLineLimitBytes = 4096;
const newline = 0x0a;

/**
 * Splits output chunks into lines, each given to `onLine` with at most its first `limitBytes` bytes (and `cut` when
 * it had more), keeping at most that much of an unfinished line between chunks. `end` gives the last unfinished one.
 */
export function lineSplitter(
  limitBytes: number,
  onLine: (line: string, cut: boolean) => void,
): { push(chunk: Buffer): void; end(): void } {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let cut = false;
  const keep = (part: Buffer): void => {
    const room = limitBytes - pendingBytes;
    if (part.length > room) cut = true;
    if (room > 0 && part.length > 0) {
      // A copy: a view would keep the whole chunk alive.
      const kept = Buffer.from(part.subarray(0, room));
      pending.push(kept);
      pendingBytes += kept.length;
    }
  };
  const emit = (): void => {
    onLine(Buffer.concat(pending).toString('utf8'), cut);
    pending = [];
    pendingBytes = 0;
    cut = false;
  };
  return {
    push(chunk) {
      let start = 0;
      for (let end = chunk.indexOf(newline); end !== -1; end = chunk.indexOf(newline, start)) {
        keep(chunk.subarray(start, end));
        emit();
        start = end + 1;
      }
      if (start < chunk.length) keep(chunk.subarray(start));
    },
    end() {
      if (pendingBytes > 0 || cut) emit();
    },
  };
}

/** Reads `::progress` lines from stdout chunks; a line over 4 KiB is passed over. */
export function reportProgressLines(context: JobContext, mask: (text: string) => string): (chunk: Buffer) => void {
  const lines = lineSplitter(progressLineLimitBytes, (line, cut) => {
    const match = cut ? null : progressLine.exec(line.trimEnd());
    if (match) context.progress(Math.min(100, Number(match[1])), match[2] === undefined ? null : mask(match[2]));
  });
  return (chunk) => lines.push(chunk);
}

/**
 * Keeps each line of a stream in the job's logs at `level`, masked (a value's start at a cut line's end too); a line
 * is cut at the protocol's message limit.
 */
export function keepOutputLines(
  context: JobContext,
  level: AttemptLogLevel,
  mask: (text: string, cut?: boolean) => string,
): { push(chunk: Buffer): void; end(): void } {
  return lineSplitter(attemptLogLimits.messageBytes - 64, (line, cut) => {
    context.log.keep(level, cut ? `${mask(line, true)} … (line cut)` : mask(line.replace(/\r$/, '')));
  });
}
