/**
 * The UTF-8 bytes of `JSON.stringify(value)`, byte for byte, or undefined where JSON.stringify gives undefined; throws
 * where it throws. Big plain data is written without a string of its size.
 */
export declare function jsonUtf8(value: unknown): Uint8Array | undefined;

/** Characters JSON.stringify writes escaped: `"`, `\`, control characters and lone surrogates (pairs pass). */
export declare const escaped: RegExp;

/** Values JSON.stringify leaves out of an object and writes as `null` in an array. */
export declare function isLeftOut(value: unknown): boolean;
