// What Linux says about a process: memory from /proc/<pid>/status, CPU time from /proc/<pid>/stat.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

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

interface ProcessEntry {
  readonly pid: number;
  readonly parentPid: number;
  /** The command name, which may itself hold spaces and parentheses. */
  readonly command: string;
  /** User plus system CPU seconds of the process itself. */
  readonly cpuSeconds: number;
  /** The same of its children that have ended and been waited for. */
  readonly endedChildrenCpuSeconds: number;
}

/** What /proc/<pid>/stat says; undefined once the process is gone. */
function readStat(pid: number): ProcessEntry | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // ppid, utime, stime, cutime and cstime are fields 4 and 14 to 17 of stat: 1 and 11 to 14 after the command name.
  return {
    pid,
    parentPid: Number(fields[1]),
    command: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')),
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / ticksPerSecond,
    endedChildrenCpuSeconds: (Number(fields[13]) + Number(fields[14])) / ticksPerSecond,
  };
}

/** User plus system CPU seconds the process has used; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  return readStat(pid)?.cpuSeconds ?? 0;
}

/** Every process on the machine now (but those that end while the table is read). */
function processTable(): ProcessEntry[] {
  return readdirSync('/proc').flatMap((entry) => (/^\d+$/.test(entry) ? (readStat(Number(entry)) ?? []) : []));
}

/** The pid of a child of `parentPid` whose command name is `command`, if there is one. */
export function findChild(parentPid: number, command: string): number | undefined {
  return processTable().find((entry) => entry.parentPid === parentPid && entry.command === command)?.pid;
}

/**
 * CPU seconds used by the processes `pids` and everything they started, the ended children included
 * (PostgreSQL serves each connection from a process of its own).
 */
export function treeCpuSeconds(pids: readonly number[]): number {
  const table = processTable();
  const byPid = new Map(table.map((entry) => [entry.pid, entry]));
  const children = new Map<number, ProcessEntry[]>();
  for (const entry of table) children.set(entry.parentPid, [...(children.get(entry.parentPid) ?? []), entry]);
  const treeOf = (pid: number): number => {
    const entry = byPid.get(pid);
    if (!entry) return 0;
    return (
      entry.cpuSeconds +
      entry.endedChildrenCpuSeconds +
      (children.get(pid) ?? []).reduce((sum, child) => sum + treeOf(child.pid), 0)
    );
  };
  return pids.reduce((sum, pid) => sum + treeOf(pid), 0);
}

/** CPU seconds the whole machine has spent busy (all but idle and I/O wait), summed over its cores. */
export function machineBusySeconds(): number {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields.map(Number);
  return (user + nice + system + irq + softirq + steal) / ticksPerSecond;
}

/** The TCP ports the process listens on (IPv4 and IPv6), from its sockets' inodes in /proc/net/tcp{,6}. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]!);
      } catch {
        // Closed while the directory was read.
      }
    }
  } catch {
    return [];
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is field 1 (address:port in hex), st field 3 (0A: LISTEN), inode field 9.
      if (fields[3] === '0A' && inodes.has(fields[9] ?? '')) ports.add(parseInt(fields[1]!.split(':').pop()!, 16));
    }
  }
  return [...ports];
}
