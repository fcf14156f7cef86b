/**
 * What a refused request must not change: rows of jobs, job_events and outbox, and messages in the jobs
 * stream. Taken once the outbox is drained, so an earlier accepted submit cannot move the numbers.
 */
import type { TestApp } from './app.js';

export interface Snapshot {
  jobs: number;
  events: number;
  outbox: number;
  streamMessages: number;
}

export async function snapshot(t: TestApp): Promise<Snapshot> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const n = (await t.env.sql<{ n: number }[]>`select count(*)::int as n from outbox where published_at is null`)[0]!.n;
    if (n === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const [row] = await t.env.sql<{ jobs: number; events: number; outbox: number }[]>`
    select (select count(*) from jobs)::int as jobs, (select count(*) from job_events)::int as events,
      (select count(*) from outbox)::int as outbox`;
  const info = await t.app.deps.nats.jsm.streams.info(t.app.deps.names.jobsStream);
  return { ...row!, streamMessages: info.state.messages };
}
