import type { JobContext } from '@durable-jobs/worker';

/** Each of stdout and stderr is kept up to this many bytes; the rest is dropped and `truncated` set. */
export const outputLimitBytes = 64 * 1024;
/** A line `::progress <percent> [message]` on stdout reports progress. */
const progressLine = /^::progress (\d{1,3}(?:\.\d+)?)(?: (.*))?$/;

export function collect(limit: number): { push(chunk: Buffer): void; text(): string; truncated(): boolean } {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = false;
  return {
    push(chunk) {
      const room = limit - kept;
      if (chunk.length > room) dropped = true;
      if (room > 0) {
        const part = chunk.subarray(0, room);
        chunks.push(part);
        kept += part.length;
      }
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
    truncated: () => dropped,
  };
}

/** Env values shorter than this are not masked: `***` for every "1" or "yes" would garble output and hide nothing. */
export const maskedValueMinLength = 4;

/**
 * Replaces each of the values (of at least 4 characters) in the text with `***`, and, when the text was cut,
 * a start of one at its very end: output, an error message and progress never carry a caller's env value.
 */
export function masker(values: readonly string[]): (text: string, cut?: boolean) => string {
  const secrets = [...new Set(values.filter((value) => value.length >= maskedValueMinLength))].sort(
    (a, b) => b.length - a.length,
  );
  return (text, cut = false) => {
    let masked = text;
    for (const secret of secrets) masked = masked.split(secret).join('***');
    if (cut) {
      for (const secret of secrets) {
        for (let length = secret.length - 1; length > 0; length--) {
          if (masked.endsWith(secret.slice(0, length))) {
            masked = `${masked.slice(0, -length)}***`;
            break;
          }
        }
      }
    }
    return masked;
  };
}

/** Progress lines are short: a longer line is passed over, so a command printing no newline costs no memory. */
const progressLineLimitBytes = 4096;
const newline = 0x0a;

/** Reads `::progress` lines from stdout chunks, keeping at most one unfinished line of up to 4 KiB between chunks. */
export function reportProgressLines(context: JobContext, mask: (text: string) => string): (chunk: Buffer) => void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let overlong = false;
  const report = (line: string): void => {
    const match = progressLine.exec(line.trimEnd());
    if (match) context.progress(Math.min(100, Number(match[1])), match[2] === undefined ? null : mask(match[2]));
  };
  return (chunk) => {
    let start = 0;
    for (let end = chunk.indexOf(newline); end !== -1; end = chunk.indexOf(newline, start)) {
      if (!overlong && pendingBytes + end - start <= progressLineLimitBytes)
        report(Buffer.concat([...pending, chunk.subarray(start, end)]).toString('utf8'));
      pending = [];
      pendingBytes = 0;
      overlong = false;
      start = end + 1;
    }
    if (overlong || start === chunk.length) return;
    if (pendingBytes + chunk.length - start > progressLineLimitBytes) {
      overlong = true;
      pending = [];
      pendingBytes = 0;
    } else {
      // A copy: a view would keep the whole chunk alive.
      pending.push(Buffer.from(chunk.subarray(start)));
      pendingBytes += chunk.length - start;
    }
  };
}
