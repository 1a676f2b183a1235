// How much a value takes as JSON, in the registries' budgets: workflow code has no Buffer, so UTF-8 is counted.

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code >= 0xd800 && code <= 0xdfff ? 2 : 3;
  }
  return bytes;
}

/** The bytes of `value`'s JSON in UTF-8. */
export function jsonBytes(value: unknown): number {
  return utf8Length(JSON.stringify(value));
}

/** A count of bytes as a refusal says it: whole KiB, rounded up. */
export function kib(bytes: number): string {
  return `${Math.ceil(bytes / 1024)} KiB`;
}
