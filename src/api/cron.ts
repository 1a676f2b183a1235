// How often a five-field cron expression (minute hour day-of-month month day-of-week) can fire.

/** The names Temporal reads in a cron's month field, any case, for 1 to 12. */
const monthNames = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The most days each month has, February's in a leap year. */
const longestMonths = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The values a cron field of numbers, ranges, steps and lists stands for, a name standing for its number (`names[0]`
 * is `min`); undefined for any other syntax.
 */
function fieldValues(field: string, min: number, max: number, names: readonly string[] = []): number[] | undefined {
  const values = new Set<number>();
  const numbered = field.replace(/[A-Za-z]+/g, (name) => {
    const index = names.indexOf(name.toLowerCase());
    return index < 0 ? name : String(min + index);
  });
  for (const part of numbered.split(',')) {
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

/**
 * Why a five-field cron never fires, when its day-of-month field names only days none of its months has (`0 9 31 2 *`):
 * Temporal takes such a schedule and never runs it. Undefined when it can fire, and when those two fields use syntax
 * beyond numbers, month names, ranges, steps and lists (Temporal judges those).
 */
export function cronNeverFiresReason(cron: string): string | undefined {
  const [, , dayField = '', monthField = ''] = cron.trim().split(/\s+/);
  const days = fieldValues(dayField, 1, 31);
  const months = fieldValues(monthField, 1, 12, monthNames);
  if (!days || !months) return undefined;
  const firstDay = Math.min(...days);
  if (months.some((month) => firstDay <= longestMonths[month - 1]!)) return undefined;
  return `none of its months has day ${firstDay} or a later one (February has at most 29 days; April, June, September and November 30): choose days its months have`;
}
