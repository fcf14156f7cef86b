/**
 * CPU accounting over a phase, the way the peers harness does it (shared/peers/lib/core.mjs): utime+stime
 * from /proc/<pid>/stat (100 ticks/s) of the API and worker processes, the PostgreSQL backends connected
 * to the bench database (minus the bench's own connection), and nats-server; plus `process.cpuUsage()` of
 * the load generator. Backends come and go during a phase, so /proc is sampled every 250 ms and per-PID
 * deltas are summed from the first sample (0 for PIDs born during the phase) to the last.
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

export interface CpuScope {
  api: number;
  /** Worker PIDs (looked up at every sample: a worker may start after the mark). */
  workers: () => number[];
  database: string;
  /** Backends to leave out (the bench's own connection). */
  excludePids: number[];
}

function sampleAll(scope: CpuScope): Map<string, { group: Group; ticks: number }> {
  const m = new Map<string, { group: Group; ticks: number }>();
  const add = (pid: number | string, group: Group) => {
    const t = ticksOf(pid);
    if (t !== null) m.set(String(pid), { group, ticks: t });
  };
  add(scope.api, 'api');
  for (const w of scope.workers()) add(w, 'worker');
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || scope.excludePids.includes(Number(pid))) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm !== 'postgres' && comm !== 'nats-server') continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (comm === 'postgres' && cmd.includes(` ${scope.database} `)) add(pid, 'postgres');
      if (comm === 'nats-server' && / -p 4222( |$)/.test(cmd)) add(pid, 'nats');
    } catch {
      // the process ended meanwhile
    }
  }
  return m;
}

export interface CpuResult {
  /** CPU milliseconds by process group, plus the load generator. */
  ms: Record<Group | 'client', number>;
  totalMs: number;
}

/** Starts counting; `end()` stops and returns the CPU used since. */
export function cpuMark(scope: CpuScope): { end(): CpuResult } {
  const base = new Map<string, number>();
  const last = new Map<string, { group: Group; ticks: number }>();
  const sample = () => {
    for (const [pid, s] of sampleAll(scope)) {
      if (!base.has(pid)) base.set(pid, 0); // born during the phase
      last.set(pid, s);
    }
  };
  for (const [pid, s] of sampleAll(scope)) {
    base.set(pid, s.ticks);
    last.set(pid, s);
  }
  const timer = setInterval(sample, 250);
  const client0 = process.cpuUsage();
  return {
    end() {
      sample();
      clearInterval(timer);
      const ms: Record<Group | 'client', number> = { api: 0, worker: 0, postgres: 0, nats: 0, client: 0 };
      for (const [pid, s] of last) ms[s.group] += Math.max(0, s.ticks - (base.get(pid) ?? 0)) * TICK_MS;
      const c = process.cpuUsage(client0);
      ms.client = Math.round((c.user + c.system) / 1000);
      return { ms, totalMs: Object.values(ms).reduce((a, b) => a + b, 0) };
    },
  };
}

/** Resident set size of a PID in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}
