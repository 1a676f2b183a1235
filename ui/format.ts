// How the dashboard writes times, durations and JSON: short, and the same everywhere.

/** "4 s", "2 min 5 s", "3 h 10 min", "2 d 4 h". */
export function duration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.floor(seconds % 60)} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** "12 s ago", "3 min ago"; "in 5 min" for a time ahead. */
export function relative(iso: string, now: number): string {
  const ms = now - Date.parse(iso);
  if (Math.abs(ms) < 1000) return 'now';
  const words = duration(Math.abs(ms)).split(' ').slice(0, 2).join(' ').replace(/\.\d/, '');
  return ms >= 0 ? `${words} ago` : `in ${words}`;
}

/** How long the job ran: start to finish, or to now while it runs; null before it starts. */
export function runTime(job: { startedAt: string | null; finishedAt: string | null }, now: number): number | null {
  if (!job.startedAt) return null;
  return (job.finishedAt ? Date.parse(job.finishedAt) : now) - Date.parse(job.startedAt);
}

/** A local date and time with seconds, for a title or a details list. */
export function dateTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'null';
}

/** `timed_out` → "timed out". */
export function statusLabel(status: string): string {
  return status.replace('_', ' ');
}

/** `timed_out` → "Timed out", for a tab. */
export function statusTitle(status: string): string {
  const label = statusLabel(status);
  return label.charAt(0).toUpperCase() + label.slice(1);
}
