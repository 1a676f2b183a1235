// What a refusal says back about a name the caller got wrong: the known name it is near, the known names (a bounded
// list), and the caller's own text cut short. Every refusal quotes the caller, so none may grow with what was sent.

/** A caller's text is quoted up to this many characters. */
export const quotedMaxChars = 64;
/** A refusal lists at most this many known names, then says how many more there are. */
export const listedMaxNames = 20;

/** A field name the caller sent, as a problem's path shows it: cut to 256 characters (with … when cut). */
export function pathKey(key: string): string {
  return key.length > 256 ? `${key.slice(0, 256)}…` : key;
}

/** The caller's text as JSON, cut to `quotedMaxChars` characters (with … when cut). */
export function quoted(text: string): string {
  return JSON.stringify(text.length > quotedMaxChars ? `${text.slice(0, quotedMaxChars)}…` : text);
}

/** The names, comma-separated, at most `listedMaxNames` of them. */
export function listOf(names: readonly string[]): string {
  const listed = names.slice(0, listedMaxNames);
  const more = names.length - listed.length;
  return more > 0 ? `${listed.join(', ')} and ${more} more` : listed.join(', ');
}

/** Levenshtein distance, or Infinity once it is over `max` (a row's minimum only grows). */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return Infinity;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    if (Math.min(...row) > max) return Infinity;
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * The known name the caller most likely meant: the same but for case, spaces, - and _, or a few edits away (one per
 * three characters, at least one). Undefined when none is that near, or the word is too long to be a misspelling.
 */
export function nearest(word: string, known: readonly string[]): string | undefined {
  if (word.length > quotedMaxChars) return undefined;
  const folded = (name: string): string => name.toLowerCase().replace(/[\s_-]/g, '');
  const same = known.find((name) => folded(name) === folded(word));
  if (same !== undefined) return same;
  const max = Math.max(1, Math.floor(word.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of known.slice(0, 1000)) {
    const d = distance(word, name, max);
    if (d <= max && (!best || d < best.distance)) best = { name, distance: d };
  }
  return best?.name;
}

/** `; did you mean "seconds"?`, or nothing when no known name is near. */
export function didYouMean(word: string, known: readonly string[]): string {
  const near = nearest(word, known);
  return near === undefined || near === word ? '' : `; did you mean ${JSON.stringify(near)}?`;
}
