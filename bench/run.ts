/**
 * `npm run bench`: starts the real stack (bench/stack.ts), measures it through the public GraphQL API from
 * this process (the load generator), and prints one JSON line per figure and a table.
 *
 *   npm run bench                      # N=20000, C=50, every part
 *   npm run bench -- --quick           # small N, under a minute
 *   npm run bench -- --parts 1,3,4 --n 5000 --concurrency 50
 *   npm run bench -- --parts 5 --trickle-rate 20 --trickle-n 200   # pickup latency below saturation
 *   npm run bench -- --profile bench-profiles   # node --cpu-prof for the API and worker processes
 *   npm run bench -- --runs 3           # every part three times; the table shows the medians
 *   npm run bench -- --prefill 1000000  # with a million finished jobs (30 days' history) in the tables
 *
 * Parts: 1 submit 1-by-1, 2 bulk submit, 3 drain, 4 end to end, 5 pickup latency, 6 progress latency,
 * 7 fan-out, 8 CPU per job (of 3 and 4), 9 end to end through the SDK (its `submitJob` sends concurrent
 * calls as one `submitJobs`). Part 3 drains the backlog part 1 leaves, so 3 implies 1.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import type { Figure, Options, PhaseContext } from './figure.js';
import { fanout } from './phases/fanout.js';
import { pickup, progress } from './phases/latency.js';
import { drain, endToEnd, endToEndSdk, submitBulkPhase, submitOneByOne } from './phases/throughput.js';
import { startStack } from './stack.js';
import { medianFigures } from './medians.js';
import { printTable } from './table.js';
import { prefillHistory } from './prefill.js';

const { values: a } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    n: { type: 'string' },
    concurrency: { type: 'string', default: '50' },
    'in-flight': { type: 'string', default: '50' },
    'bulk-batch': { type: 'string', default: '1000' },
    parts: { type: 'string', default: '1,2,3,4,5,6,7,8,9' },
    runs: { type: 'string', default: '1' },
    prefill: { type: 'string', default: '0' },
    'trickle-rate': { type: 'string' },
    'trickle-n': { type: 'string' },
    'fanout-subs': { type: 'string' },
    'fanout-conns': { type: 'string' },
    'fanout-seconds': { type: 'string' },
    'fanout-threads': { type: 'string', default: '2' },
    profile: { type: 'string' },
    pg: { type: 'string', default: process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432' },
    nats: { type: 'string', default: process.env.BENCH_NATS ?? 'nats://127.0.0.1:4222' },
    'log-level': { type: 'string', default: 'warn' },
  },
});

const quick = a.quick!;
const int = (v: string | undefined, dflt: number) => (v === undefined ? dflt : Number.parseInt(v, 10));
const o: Options = {
  n: int(a.n, quick ? 500 : 20_000),
  concurrency: int(a.concurrency, 50),
  inFlight: int(a['in-flight'], 50),
  bulkBatch: int(a['bulk-batch'], 1000),
  trickleN: int(a['trickle-n'], quick ? 100 : 500),
  trickleRate: int(a['trickle-rate'], 200),
  warmup: quick ? 10 : 20,
  progressJobs: quick ? 5 : 10,
  progressUpdates: quick ? 20 : 50,
  progressIntervalMs: 50,
  fanoutSubs: int(a['fanout-subs'], quick ? 500 : 10_000),
  fanoutConns: int(a['fanout-conns'], quick ? 25 : 1000),
  fanoutJobs: quick ? 10 : 100,
  fanoutPerSecond: 10,
  fanoutSeconds: int(a['fanout-seconds'], quick ? 2 : 10),
  fanoutThreads: int(a['fanout-threads'], 2),
  timeoutMs: quick ? 120_000 : 600_000,
  // Two benches on one machine at once need their own names (BENCH_DATABASE, BENCH_PREFIX).
  prefix: process.env.BENCH_PREFIX ?? 'bench_',
  database: process.env.BENCH_DATABASE ?? 'longrun_bench',
  prefill: int(a.prefill, 0),
};
const parts = new Set(a.parts!.split(',').map((p) => Number(p.trim())));
if (parts.has(3)) parts.add(1);
const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);

const meta = {
  figure: 'meta',
  started_utc: new Date().toISOString(),
  host: `${cpus().length} cpu (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB`,
  node: process.version,
  loadavg_start: loadavg().map((x) => x.toFixed(2)).join(' '),
  quick,
  ...o,
  parts: [...parts].sort(),
};
process.stdout.write(JSON.stringify(meta) + '\n');

const stack = await startStack({
  pgServer: a.pg!,
  database: o.database,
  natsUrl: a.nats!,
  prefix: o.prefix,
  concurrency: o.concurrency,
  profileDir: a.profile ?? null,
  logLevel: a['log-level']!,
});
if (o.prefill > 0) await prefillHistory(stack.sql, o.prefill, log);
const ctx: PhaseContext = { stack, o, log };
const figures: Figure[] = [];
let failed = false;
const emit = (f: Figure) => {
  figures.push(f);
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  process.stdout.write(JSON.stringify({ figure: f.figure, label: f.label, value: f.value, ...f.detail, loadavg_after: load }) + '\n');
};
async function part(n: number, label: string, fn: () => Promise<Figure>): Promise<Figure | null> {
  if (!parts.has(n)) return null;
  try {
    const f = await fn();
    emit(f);
    return f;
  } catch (e) {
    failed = true;
    log(`part ${n} failed: ${e instanceof Error ? e.stack : String(e)}`);
    emit({ figure: `part${n}`, label, value: 'FAILED', detail: { error: e instanceof Error ? e.message : String(e) } });
    return null;
  }
}

const cpuFigure = (of: Figure | null, figure: string, label: string) => {
  if (!parts.has(8) || !of) return;
  const d = of.detail as { cpu_ms_per_job: number; by_process_ms_per_job: Record<string, number> };
  emit({ figure, label, value: `${d.cpu_ms_per_job} ms`, detail: { cpu_ms_per_job: d.cpu_ms_per_job, by_process_ms_per_job: d.by_process_ms_per_job } });
};

const runs = int(a.runs, 1);
const perRun: Figure[][] = [];
try {
  for (let r = 1; r <= runs; r++) {
    if (runs > 1) log(`run ${r} of ${runs}`);
    const first = figures.length;
    await part(1, 'submit 1-by-1', () => submitOneByOne(ctx));
    const drained = await part(3, 'drain', () => drain(ctx));
    await part(2, 'submit bulk', () => submitBulkPhase(ctx));
    const e2e = await part(4, 'end to end', () => endToEnd(ctx));
    const e2eSdk = await part(9, 'end to end through the SDK', () => endToEndSdk(ctx));
    cpuFigure(drained, 'cpu_drain', 'CPU per job, drain (all processes)');
    cpuFigure(e2e, 'cpu_e2e', 'CPU per job, end to end (all processes)');
    cpuFigure(e2eSdk, 'cpu_e2e_sdk', 'CPU per job, end to end through the SDK (all processes)');
    await part(5, 'pickup latency', () => pickup(ctx));
    await part(6, 'progress latency', () => progress(ctx));
    await part(7, 'fan-out', () => fanout(ctx));
    perRun.push(figures.slice(first));
  }
} finally {
  await stack.stop();
}
if (runs > 1) {
  const medians = medianFigures(perRun);
  for (const f of medians) process.stdout.write(JSON.stringify({ figure: `${f.figure}_median`, value: f.value, ...f.detail }) + '\n');
  printTable(medians, { ...meta, runs });
} else printTable(figures, meta);
process.exit(failed ? 1 : 0);
