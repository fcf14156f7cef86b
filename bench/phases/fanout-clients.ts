/**
 * The fan-out phase's subscribers, spread over worker threads: one Node thread parsing 100,000 graphql-ws
 * frames a second falls behind and would be measured as delivery latency. Each thread opens its share of
 * the connections (connection c goes to thread c mod threads; lean graphql-transport-ws connections,
 * `leanWsConnection`), runs `follow()` for the subscriptions on them (each checks its stream: seq order, the
 * last report, SUCCEEDED), and hands back every latency it measured. The same file is the parent's API (`runClients`) and
 * the thread's entry point.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { leanWsConnection } from '../client.js';
import { inParallel } from '../stats.js';
import { follow } from './latency.js';

/** One thread's share: its connections, and per subscription the connection (index in `conns`) and job. */
interface Share {
  wsUrl: string;
  offsetMs: number;
  conns: number;
  subs: { conn: number; job: string }[];
}

type FromThread =
  | { type: 'connected' }
  | { type: 'live' }
  | { type: 'done'; lat: Float64Array; lagP99Ms: number }
  | { type: 'failed'; error: string };

export interface ClientsResult {
  lat: Float64Array[];
  /** The event-loop delay p99 of the slowest thread while delivering. */
  lagP99Ms: number;
}

export interface Clients {
  /** Resolves when every subscription has its first update (the snapshot). */
  live: Promise<void>;
  /** Resolves when every subscription completed; rejects with the first failure. */
  done: Promise<ClientsResult>;
}

/** Starts `threads` threads for `subs` subscriptions over `conns` connections on `ids` (round robin). */
export async function runClients(o: { threads: number; wsUrl: string; offsetMs: number; subs: number; conns: number; ids: string[] }): Promise<Clients> {
  const shares: Share[] = Array.from({ length: o.threads }, () => ({ wsUrl: o.wsUrl, offsetMs: o.offsetMs, conns: 0, subs: [] }));
  const connIndex = new Map<number, number>();
  for (let c = 0; c < o.conns; c++) connIndex.set(c, shares[c % o.threads]!.conns++);
  for (let s = 0; s < o.subs; s++) {
    const c = s % o.conns;
    shares[c % o.threads]!.subs.push({ conn: connIndex.get(c)!, job: o.ids[s % o.ids.length]! });
  }
  // A thread does not inherit tsx's loader: register it, then load this file.
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const workers = shares.map((share) => new Worker(boot, { eval: true, workerData: share }));
  const next = (w: Worker, type: FromThread['type']) =>
    new Promise<FromThread>((resolve, reject) => {
      const onMessage = (m: FromThread) => {
        if (m.type === 'failed') reject(new Error(m.error));
        else if (m.type === type) resolve(m);
        else return;
        w.off('message', onMessage);
      };
      w.on('message', onMessage);
      w.once('error', reject);
    });
  await Promise.all(workers.map((w) => next(w, 'connected')));
  const live = Promise.all(workers.map((w) => next(w, 'live'))).then(() => {});
  const done = Promise.all(workers.map((w) => next(w, 'done')))
    .then((ms) => {
      const d = ms as Extract<FromThread, { type: 'done' }>[];
      return { lat: d.map((m) => m.lat), lagP99Ms: Math.max(...d.map((m) => m.lagP99Ms)) };
    })
    .finally(() => Promise.all(workers.map((w) => w.terminate())));
  done.catch(() => {}); // awaited by the caller later; a failure before that must not go unhandled
  workers.forEach((w) => w.postMessage('go'));
  return { live, done };
}

/** The thread: connect, report; on `go` subscribe, report when live, then report the results. */
async function thread(share: Share): Promise<void> {
  const port = parentPort!;
  const post = (m: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  const clients: Awaited<ReturnType<typeof leanWsConnection>>[] = [];
  await inParallel(share.conns, 50, async () => {
    clients.push(await leanWsConnection(share.wsUrl));
  });
  post({ type: 'connected' });
  await new Promise((r) => port.once('message', r));
  const lat: number[] = [];
  let live = 0;
  const lag = monitorEventLoopDelay({ resolution: 10 });
  if (share.subs.length === 0) post({ type: 'live' });
  await Promise.all(
    share.subs.map((s) =>
      follow(clients[s.conn]!, s.job, share.offsetMs, (ms) => lat.push(ms), () => {
        if (++live === share.subs.length) {
          post({ type: 'live' });
          lag.enable();
        }
      }),
    ),
  );
  lag.disable();
  await Promise.all(clients.map((c) => c.close()));
  const buf = Float64Array.from(lat);
  post({ type: 'done', lat: buf, lagP99Ms: Math.round(lag.percentile(99) / 1e6) }, [buf.buffer]);
}

if (!isMainThread && parentPort) {
  thread(workerData as Share).catch((e: unknown) => parentPort!.postMessage({ type: 'failed', error: e instanceof Error ? e.message : String(e) } satisfies FromThread));
}
