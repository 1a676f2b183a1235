// How often a five-field cron expression (minute hour day-of-month month day-of-week) can fire.

/** The values a cron field of numbers, ranges, steps and lists stands for; undefined for any other syntax. */
function fieldValues(field: string, min: number, max: number): number[] | undefined {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) return undefined;
    const [, whole, from, to, step] = match;
    // `a/n` runs from a to the field's end, as in Temporal's (and robfig's) reading.
    const first = whole === '*' ? min : Number(from);
    const last = whole === '*' ? max : to !== undefined ? Number(to) : step !== undefined ? max : first;
    const every = step === undefined ? 1 : Number(step);
    if (first < min || last > max || first > last || every < 1) return undefined;
    for (let value = first; value <= last; value += every) values.add(value);
  }
  return [...values];
}

/**
 * The fewest seconds between two fires of a five-field cron, read from its minute and hour fields alone, with
 * the last fire of a day followed by the first of the next: never more than the true gap. Undefined when those
 * fields use syntax beyond numbers, ranges, steps and lists.
 */
export function shortestCronGapSeconds(cron: string): number | undefined {
  const [minuteField = '', hourField = ''] = cron.trim().split(/\s+/);
  const minutes = fieldValues(minuteField, 0, 59);
  const hours = fieldValues(hourField, 0, 23);
  if (!minutes || !hours) return undefined;
  const times = hours.flatMap((hour) => minutes.map((minute) => hour * 60 + minute)).sort((a, b) => a - b);
  let gap = times[0]! + 24 * 60 - times[times.length - 1]!;
  for (let i = 1; i < times.length; i++) gap = Math.min(gap, times[i]! - times[i - 1]!);
  return gap * 60;
}
