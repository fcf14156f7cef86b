/**
 * The pickup floor: what bench part 5 (pickup latency) would measure for the least code that makes the
 * same hops, on this machine's services. No GraphQL, no Apollo, no batching, no outbox, no history, one
 * table with a primary key only:
 *
 *   load generator --HTTP--> "API": INSERT (a durable commit), answer, then publish to a JetStream
 *   work-queue stream (awaiting its PubAck) --> "worker" (a pull consumer): UPDATE … SET state = 'RUNNING'
 *   (a durable commit), then the "handler" starts: its start time goes back to the load generator over
 *   core NATS, and the worker acks.
 *
 * The same open loop as part 5: 20 warm-up jobs, then 500 at 200/s from a timer; latency from the send to
 * the handler's start. `--no-pg` leaves both statements out (HTTP and JetStream only), `--async-commit`
 * makes both commits asynchronous (`synchronous_commit = off`, which longrun never does for these two).
 *
 *   node --import tsx bench/floor.ts [--rate 200] [--n 500] [--runs 3] [--no-pg] [--async-commit]
 *   node --import tsx bench/floor.ts --medians floor.run*.jsonl      # medians by mode of earlier runs
 *
 * It uses its own database (`longrun_floor`) and NATS names (`floor_…`), removed before and after.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request, Agent } from 'node:http';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { cpuMark } from './cpu.js';
import { now } from './jobs.js';
import { sleepMs, summarize } from './stats.js';

const PG_SERVER = process.env.FLOOR_PG ?? 'postgres://postgres@127.0.0.1:5432';
const NATS_URL = process.env.FLOOR_NATS ?? 'nats://127.0.0.1:4222';
const DATABASE = 'longrun_floor';
const STREAM = 'floor_jobs';
const SUBJECT = 'floor.jobs';
const DONE = 'floor.started';
const CONSUMER = 'floor_worker';

interface Mode {
  pg: boolean;
  asyncCommit: boolean;
}

const modeOf = (): Mode => ({ pg: process.env.FLOOR_PG_OFF !== '1', asyncCommit: process.env.FLOOR_ASYNC === '1' });

function sqlOf(m: Mode): postgres.Sql {
  return postgres(`${PG_SERVER}/${DATABASE}`, {
    max: 4,
    onnotice: () => {},
    ...(m.asyncCommit ? { connection: { synchronous_commit: 'off' } } : {}),
  });
}

/** The "API": INSERT and commit, answer, publish. */
async function api(): Promise<void> {
  const m = modeOf();
  const sql = m.pg ? sqlOf(m) : null;
  const nc = await connect({ servers: NATS_URL });
  const js = jetstream(nc);
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const id = body;
      if (sql) await sql`insert into jobs (id, state) values (${id}, 'QUEUED')`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(id) }).end(id);
      await js.publish(SUBJECT, id);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.send!({ type: 'ready', port: typeof a === 'object' && a ? a.port : 0 });
  });
}

/** The "worker": claim (UPDATE and commit), then the handler starts. */
async function worker(): Promise<void> {
  const m = modeOf();
  const sql = m.pg ? sqlOf(m) : null;
  const nc = await connect({ servers: NATS_URL });
  const consumer = await jetstream(nc).consumers.get(STREAM, CONSUMER);
  const messages = await consumer.consume({ max_messages: 50 });
  process.send!({ type: 'ready' });
  for await (const msg of messages) {
    void (async () => {
      const id = msg.string();
      if (sql) await sql`update jobs set state = 'RUNNING', started_at = now() where id = ${id} and state = 'QUEUED'`;
      nc.publish(DONE, `${id} ${now()}`); // the handler starts
      msg.ack();
    })();
  }
}

function child(role: string, m: Mode): Promise<{ proc: ChildProcess; port: number }> {
  const proc = fork(fileURLToPath(import.meta.url), [role], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, FLOOR_PG_OFF: m.pg ? '0' : '1', FLOOR_ASYNC: m.asyncCommit ? '1' : '0' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    proc.once('message', (x: { port?: number }) => resolve({ proc, port: x.port ?? 0 }));
    proc.once('exit', (code) => reject(new Error(`${role} exited (${code})`)));
  });
}

async function setUp(): Promise<void> {
  const admin = postgres(`${PG_SERVER}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${DATABASE} with (force)`);
  await admin.unsafe(`create database ${DATABASE}`);
  await admin.end();
  const sql = postgres(`${PG_SERVER}/${DATABASE}`, { max: 1, onnotice: () => {} });
  await sql`create table jobs (id uuid primary key, state text not null, created_at timestamptz not null default now(), started_at timestamptz)`;
  // Creating a database writes its whole template to the WAL: flush that now, not during the run.
  await sql`checkpoint`;
  await sql.end();
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(STREAM).catch(() => {});
  await jsm.streams.add({ name: STREAM, subjects: [SUBJECT], retention: RetentionPolicy.Workqueue });
  await jsm.consumers.add(STREAM, { durable_name: CONSUMER, ack_policy: AckPolicy.Explicit, ack_wait: 30e9 });
  await nc.close();
}

async function tearDown(): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  await (await jetstreamManager(nc)).streams.delete(STREAM).catch(() => {});
  await nc.close();
  const admin = postgres(`${PG_SERVER}/postgres`, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${DATABASE} with (force)`);
  await admin.end();
}

/** One run: fresh database and stream, the two processes, warm-up, then the open loop. */
async function run(m: Mode, n: number, rate: number) {
  await setUp();
  const a = await child('api', m);
  const w = await child('worker', m);
  const nc = await connect({ servers: NATS_URL });
  const started = new Map<string, number>();
  let twice = 0;
  let onStarted: (() => void) | null = null;
  nc.subscribe(DONE, {
    callback: (_e, msg) => {
      const [id, t] = msg.string().split(' ');
      if (started.has(id!)) twice++;
      started.set(id!, Number(t));
      onStarted?.();
    },
  });
  await nc.flush();
  const agent = new Agent({ keepAlive: true, maxSockets: 50 });
  const submit = (id: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: a.port, method: 'POST', path: '/', agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(id);
    });
  const until = (count: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${started.size} of ${count} jobs started within 60 s`)), 60_000);
      const check = () => started.size >= count && (clearTimeout(timer), resolve());
      onStarted = check;
      check();
    });
  const gap = 1000 / rate;
  for (let k = 0; k < 20; k++) {
    await submit(randomUUID());
    await sleepMs(gap);
  }
  await until(20);
  const sentAt = new Map<string, number>();
  const callMs: number[] = [];
  const calls: Promise<void>[] = [];
  // CPU and write system calls of every process on the path, as bench part 5 counts them (bench/cpu.ts).
  const cpu = cpuMark({ api: a.proc.pid!, workers: () => [w.proc.pid!], database: DATABASE, excludePids: [] });
  const start = now() + 5;
  for (let k = 0; k < n; k++) {
    const d = start + k * gap - now();
    if (d > 0) await sleepMs(d);
    const id = randomUUID();
    const t = now();
    sentAt.set(id, t);
    calls.push(submit(id).then(() => void callMs.push(now() - t)));
  }
  await Promise.all(calls);
  await until(20 + n);
  const used = cpu.end();
  // Every job counted before the figure: each started once, and (with PostgreSQL) each row claimed.
  if (twice || started.size !== 20 + n) throw new Error(`${started.size} jobs started for ${20 + n}, ${twice} twice`);
  if (m.pg) {
    const sql = sqlOf(m);
    const [c] = await sql<{ n: number }[]>`select count(*)::int as n from jobs where state = 'RUNNING'`;
    await sql.end();
    if (c!.n !== 20 + n) throw new Error(`${c!.n} rows claimed for ${20 + n} jobs`);
  }
  agent.destroy();
  await nc.close();
  a.proc.kill();
  w.proc.kill();
  await tearDown();
  const perJob = (x: Record<string, number>) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, Math.round((v / n) * 1000) / 1000]));
  return {
    pickup: summarize([...sentAt].map(([id, t]) => started.get(id)! - t)),
    submitCall: summarize(callMs),
    cpu_ms_per_job: Math.round((used.totalMs / n) * 100) / 100,
    by_process_ms_per_job: perJob(used.ms),
    writes_per_job: perJob(used.writes),
  };
}

/** Medians by mode of the JSON lines in `files` (one line per run), as a Markdown table. */
function medians(files: string[]): void {
  const runs = files
    .flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Run))
    .filter((r) => r.figure === 'pickup_floor');
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  console.log('| floor (medians) | runs | pickup p50 / p99 ms | submit call p50 ms | CPU ms per job |');
  console.log('|---|---:|---:|---:|---:|');
  for (const mode of new Set(runs.map((r) => r.mode))) {
    const rs = runs.filter((r) => r.mode === mode);
    const m = (f: (r: Run) => number | undefined) => {
      const xs = rs.map(f).filter((x): x is number => x !== undefined);
      return xs.length ? median(xs).toFixed(1) : 'n/a';
    };
    console.log(`| ${mode} | ${rs.length} | ${m((r) => r.pickup.p50)} / ${m((r) => r.pickup.p99)} | ${m((r) => r.submitCall.p50)} | ${m((r) => r.cpu_ms_per_job)} |`);
  }
}

interface Run {
  figure: string;
  mode: string;
  pickup: { p50: number; p99: number };
  submitCall: { p50: number };
  cpu_ms_per_job?: number;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      medians: { type: 'boolean', default: false },
      rate: { type: 'string', default: '200' },
      n: { type: 'string', default: '500' },
      runs: { type: 'string', default: '1' },
      'no-pg': { type: 'boolean', default: false },
      'async-commit': { type: 'boolean', default: false },
    },
  });
  if (values.medians) return medians(positionals);
  const m: Mode = { pg: !values['no-pg'], asyncCommit: values['async-commit'] };
  const label = !m.pg ? 'HTTP + JetStream, no PostgreSQL' : m.asyncCommit ? 'two asynchronous commits' : 'two durable commits';
  for (let r = 0; r < Number(values.runs); r++) {
    const x = await run(m, Number(values.n), Number(values.rate));
    const f = (s: { p50: number; p99: number }) => `${s.p50.toFixed(1)} / ${s.p99.toFixed(1)} ms`;
    console.log(JSON.stringify({ figure: 'pickup_floor', mode: label, rate: Number(values.rate), n: Number(values.n), ...x }));
    console.error(`[floor] ${label}: pickup p50 / p99 ${f(x.pickup)} (submit call ${f(x.submitCall)}), CPU ${x.cpu_ms_per_job} ms per job`);
  }
}

const role = process.argv[2];
if (role === 'api') void api();
else if (role === 'worker') void worker();
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
