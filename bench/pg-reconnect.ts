/**
 * How long a pool of ten PostgreSQL connections takes to serve again after (a) every connection is reset
 * (TCP RST: a failover, a cut link; the server stays up) and (b) an outage of OUTAGE_MS during which the
 * server refuses connections (57P03, as PostgreSQL answers while it starts up). Ten callers each send
 * `select 1` again as soon as theirs fails; the figure is from the fault (the end of the outage) until the
 * last of the ten has an answer. Run with postgres.js' own reconnect backoff and with longrun's
 * (`pgOptions`, src/db/client.ts); medians of RUNS.
 *
 *   npx tsx bench/pg-reconnect.ts          # RUNS=5 OUTAGE_MS=3000 DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres
 */
import postgres from 'postgres';
import { pgOptions } from '../src/db/client.js';
import { postgresError, startTcpProxyFor } from '../test/support/proxy.js';

const RUNS = Number(process.env.RUNS ?? 5);
const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 3000);
const CALLERS = 10;
const { proxy, url } = await startTcpProxyFor(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every caller's `select 1`, again after each failure, until it is answered; resolves when all are. */
async function allAnswered(sql: postgres.Sql): Promise<void> {
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      for (;;) {
        try {
          return void (await sql`select 1`);
        } catch {
          await sleep(10);
        }
      }
    }),
  );
}

async function once(backoff: 'postgres.js' | 'longrun', fault: 'reset' | 'outage' | 'cut'): Promise<number> {
  const options = pgOptions(CALLERS);
  if (backoff === 'postgres.js') delete options.backoff;
  const sql = postgres(url, options);
  try {
    // Every connection open and busy, as in a loaded process.
    await Promise.all(Array.from({ length: CALLERS }, () => sql`select pg_sleep(0.05)`));
    const busy = Array.from({ length: CALLERS }, () => sql`select pg_sleep(0.5)`.catch(() => {}));
    await sleep(50);
    // Callers keep trying through an outage; the figure is from the fault (a reset) or the outage's end.
    let answered: Promise<void>;
    if (fault === 'reset') {
      proxy.reset();
      answered = allAnswered(sql);
    } else {
      const restore = fault === 'outage' ? proxy.refuse(postgresError('57P03', 'the database system is starting up')) : proxy.hold();
      answered = allAnswered(sql);
      await sleep(OUTAGE_MS);
      restore();
    }
    const from = performance.now();
    await answered;
    await Promise.all(busy);
    return performance.now() - from;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const fault of ['reset', 'outage', 'cut'] as const) {
  for (const backoff of ['postgres.js', 'longrun'] as const) {
    const ms: number[] = [];
    for (let i = 0; i < RUNS; i++) ms.push(await once(backoff, fault));
    const line = { fault, backoff, runs: ms.map((x) => Math.round(x)), median_ms: Math.round(median(ms)), max_ms: Math.round(Math.max(...ms)) };
    console.log(JSON.stringify(line));
  }
}
await proxy.close();
