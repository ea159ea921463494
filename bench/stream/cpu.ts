import { readdirSync, readFileSync } from 'node:fs';

// The CPU of every process a benchmark run uses (this one, nats-server, PostgreSQL and its backends,
// the consumer), from /proc: on a shared machine events/s moves with other sessions' load, while
// the CPU one event costs the whole system does not, and on idle cores bounds what a run can reach.

const TICKS_PER_SECOND = 100; // Linux's USER_HZ, what /proc/<pid>/stat counts in

/** Milliseconds of CPU (user + system) used so far by this process and all its descendants alive now; 0 off Linux. */
export function treeCpuMs(): number {
  const own = process.cpuUsage();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return (own.user + own.system) / 1000; // not Linux: this process only
  }
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const pid of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited between the listing and the read
    }
    // After the command name in parentheses: state, ppid, ... utime (12th), stime (13th).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parent.set(Number(pid), Number(fields[1]));
    ticks.set(Number(pid), Number(fields[11]) + Number(fields[12]));
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === process.pid) return true;
    return false;
  };
  let descendants = 0;
  for (const [pid, t] of ticks) if (isDescendant(pid)) descendants += t;
  return (own.user + own.system) / 1000 + (descendants * 1000) / TICKS_PER_SECOND;
}
