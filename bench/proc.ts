// What Linux says about a process: memory from /proc/<pid>/status, CPU time from /proc/<pid>/stat.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function statusFieldKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resident memory now, in MiB; undefined once the process is gone. */
export function rssMb(pid: number): number | undefined {
  const kb = statusFieldKb(pid, 'VmRSS');
  return kb === undefined ? undefined : kb / 1024;
}

/** The kernel's high-water mark of resident memory since the process started, in MiB. */
export function peakRssMb(pid: number): number | undefined {
  const kb = statusFieldKb(pid, 'VmHWM');
  return kb === undefined ? undefined : kb / 1024;
}

/** The fields of /proc/<pid>/stat after the command name, which may itself hold spaces and parentheses. */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User plus system CPU seconds the process has used; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
  return fields ? (Number(fields[11]) + Number(fields[12])) / ticksPerSecond : 0;
}

/** The pid of a child of `parentPid` whose command name is `command`, if there is one. */
export function findChild(parentPid: number, command: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      if (name === command && Number(statFields(Number(entry))?.[1]) === parentPid) return Number(entry);
    } catch {
      // The process ended while the table was read.
    }
  }
  return undefined;
}

/** CPU seconds the whole machine has spent busy (all but idle and I/O wait), summed over its cores. */
export function machineBusySeconds(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields.map(Number);
  return (user + nice + system + irq + softirq + steal) / ticksPerSecond;
}
