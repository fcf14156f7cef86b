/**
 * CPU accounting over a phase, the way the peers harness does it (shared/peers/lib/core.mjs): utime+stime
 * from /proc/<pid>/stat (100 ticks/s) of the API and worker processes, the PostgreSQL backends connected
 * to the bench database (minus the bench's own connection), and nats-server; plus `process.cpuUsage()` of
 * the load generator. Backends come and go during a phase, so /proc is sampled every 250 ms and per-PID
 * deltas are summed from the first sample (0 for PIDs born during the phase) to the last. Write and read
 * system calls (`syscw`, `syscr` in /proc/<pid>/io) are counted the same way: on this machine a socket
 * write costs tens of microseconds, so how many a job takes is as telling as its CPU time.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10;

/** utime + stime of a PID in ticks, or null when it is gone. */
export function ticksOf(pid: number | string): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

export type Group = 'api' | 'worker' | 'postgres' | 'nats';

/** Counters of one PID: CPU ticks, write and read system calls. */
interface Sample {
  group: Group;
  ticks: number;
  writes: number;
  reads: number;
}

/** Write and read system calls of a PID so far (its threads included), or zeros when it is gone. */
export function syscallsOf(pid: number | string): { writes: number; reads: number } {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { writes: Number(/syscw: (\d+)/.exec(io)?.[1] ?? 0), reads: Number(/syscr: (\d+)/.exec(io)?.[1] ?? 0) };
  } catch {
    return { writes: 0, reads: 0 };
  }
}

export interface CpuScope {
  api: number;
  /** Worker PIDs (looked up at every sample: a worker may start after the mark). */
  workers: () => number[];
  database: string;
  /** Backends to leave out (the bench's own connection). */
  excludePids: number[];
}

/**
 * The group of a PID that is neither the API nor a worker: a backend of the bench database, the machine's
 * nats-server, or null. A sample lists /proc every 250 ms; reading every process's stat each time cost the
 * load generator most of a second per 10 s on a busy machine, so a PID found to be some other program is
 * remembered (a PostgreSQL process is looked at again: a new backend names its database a moment after
 * its fork).
 */
const otherPrograms = new Set<string>();
function serviceGroup(pid: string, database: string): Group | null {
  if (otherPrograms.has(pid)) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (comm !== 'postgres' && comm !== 'nats-server') {
      otherPrograms.add(pid);
      return null;
    }
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    if (comm === 'postgres' && cmd.includes(` ${database} `)) return 'postgres';
    if (comm === 'nats-server' && / -p 4222( |$)/.test(cmd)) return 'nats';
  } catch {
    // the process ended meanwhile
  }
  return null;
}

function sampleAll(scope: CpuScope): Map<string, Sample> {
  const m = new Map<string, Sample>();
  const add = (pid: number | string, group: Group) => {
    const t = ticksOf(pid);
    if (t !== null) m.set(String(pid), { group, ticks: t, ...syscallsOf(pid) });
  };
  add(scope.api, 'api');
  for (const w of scope.workers()) add(w, 'worker');
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || scope.excludePids.includes(Number(pid))) continue;
    const group = serviceGroup(pid, scope.database);
    if (group) add(pid, group);
  }
  return m;
}

export interface CpuResult {
  /** CPU milliseconds by process group, plus the load generator. */
  ms: Record<Group | 'client', number>;
  totalMs: number;
  /** Write and read system calls by process group, plus the load generator. */
  writes: Record<Group | 'client', number>;
  reads: Record<Group | 'client', number>;
}

/** Starts counting; `end()` stops and returns the CPU used since. */
export function cpuMark(scope: CpuScope): { end(): CpuResult } {
  const base = new Map<string, Sample>();
  const last = new Map<string, Sample>();
  const sample = () => {
    for (const [pid, s] of sampleAll(scope)) {
      if (!base.has(pid)) base.set(pid, { group: s.group, ticks: 0, writes: 0, reads: 0 }); // born during the phase
      last.set(pid, s);
    }
  };
  for (const [pid, s] of sampleAll(scope)) {
    base.set(pid, s);
    last.set(pid, s);
  }
  const timer = setInterval(sample, 250);
  const client0 = process.cpuUsage();
  const clientIo0 = syscallsOf(process.pid);
  return {
    end() {
      sample();
      clearInterval(timer);
      const zero = () => ({ api: 0, worker: 0, postgres: 0, nats: 0, client: 0 });
      const ms: Record<Group | 'client', number> = zero();
      const writes: Record<Group | 'client', number> = zero();
      const reads: Record<Group | 'client', number> = zero();
      for (const [pid, s] of last) {
        const b = base.get(pid)!;
        ms[s.group] += Math.max(0, s.ticks - b.ticks) * TICK_MS;
        writes[s.group] += Math.max(0, s.writes - b.writes);
        reads[s.group] += Math.max(0, s.reads - b.reads);
      }
      const c = process.cpuUsage(client0);
      ms.client = Math.round((c.user + c.system) / 1000);
      const clientIo = syscallsOf(process.pid);
      writes.client = clientIo.writes - clientIo0.writes;
      reads.client = clientIo.reads - clientIo0.reads;
      return { ms, totalMs: Object.values(ms).reduce((a, b) => a + b, 0), writes, reads };
    },
  };
}

/** Resident set size of a PID in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}
