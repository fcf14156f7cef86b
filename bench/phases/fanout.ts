/**
 * (7) Fan-out: `fanoutSubs` concurrent `jobProgress` subscriptions on the one API process, spread over
 * `fanoutConns` graphql-ws connections and `fanoutJobs` jobs; then the jobs each report progress
 * `fanoutPerSecond` times a second for `fanoutSeconds`. Reports the API's RSS (idle, with the
 * subscriptions open, peak while delivering) and the delivery latency (progress call → receipt) of the
 * progress reports received. A subscriber that falls behind gets the latest report (the API coalesces
 * the others): every report is accounted for as received or coalesced (the API's counter), and every
 * subscription must end with SUCCEEDED after its job's last report.
 */
import { submitJob } from '../client.js';
import { rssMiB } from '../cpu.js';
import { fmt, markCpu, type Figure, type PhaseContext } from '../figure.js';
import { progressJob } from '../jobs.js';
import { summarize } from '../stats.js';
import { checkExactlyOnce, resetJobs, waitSucceeded } from '../verify.js';
import { runClients } from './fanout-clients.js';
import { accountFor, apiMetric, coalescedSoFar } from './latency.js';

export async function fanout(ctx: PhaseContext): Promise<Figure> {
  const { stack, o } = ctx;
  await resetJobs(stack, o);
  const updates = o.fanoutPerSecond * o.fanoutSeconds;
  const ids: string[] = [];
  for (let k = 0; k < o.fanoutJobs; k++) {
    ids.push(await submitJob(stack.url, progressJob.name, { updates, intervalMs: Math.round(1000 / o.fanoutPerSecond), delayMs: 0 }));
  }
  const rssIdle = rssMiB(stack.api.pid);
  // Every job reports at once (at --concurrency 50, 100 jobs would run in two waves at half the rate).
  const w = await stack.startWorker(Math.max(o.concurrency, o.fanoutJobs));
  const clock = await w.clockOffset();
  ctx.log(`fan-out: opening ${o.fanoutSubs} subscriptions over ${o.fanoutConns} connections in ${o.fanoutThreads} client threads`);
  const tOpen = Date.now();
  const coalesced0 = await coalescedSoFar(stack.url);
  const clients = await runClients({ threads: o.fanoutThreads, wsUrl: stack.wsUrl, offsetMs: clock.offsetMs, subs: o.fanoutSubs, conns: o.fanoutConns, ids });
  await clients.live;
  const openMs = Date.now() - tOpen;
  const rssOpen = rssMiB(stack.api.pid);
  ctx.log(`fan-out: ${o.fanoutSubs} subscriptions live after ${openMs} ms (API RSS ${rssOpen} MiB); ${o.fanoutJobs} jobs × ${o.fanoutPerSecond}/s × ${o.fanoutSeconds} s`);
  let rssPeak = rssOpen;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMiB(stack.api.pid))), 200);
  const cpu = markCpu(ctx, () => [w]);
  // Where delivery waits: the event-loop delay of the API (prom-client resets it at each scrape) and of
  // the client threads, which receive every frame.
  await apiMetric(stack.url, 'nodejs_eventloop_lag_p99_seconds');
  w.send({ type: 'start' });
  let received: Awaited<typeof clients.done>;
  try {
    received = await clients.done;
  } finally {
    clearInterval(sampler); // also when a subscription failed: the API may be gone, and /proc with it
  }
  const used = cpu.end();
  const apiLagP99 = await apiMetric(stack.url, 'nodejs_eventloop_lag_p99_seconds');
  const lat = received.lat.flatMap((a) => [...a]);
  await waitSucceeded(stack.sql, progressJob.name, o.fanoutJobs, o.timeoutMs);
  const once = await checkExactlyOnce(stack.sql, progressJob.name, o.fanoutJobs);
  await w.stop();
  const expected = o.fanoutSubs * updates;
  const coalesced = accountFor(expected, lat.length, (await coalescedSoFar(stack.url)) - coalesced0);
  const s = summarize(lat);
  return {
    figure: 'fanout',
    label: `fan-out: ${fmt(o.fanoutSubs)} subscriptions, API RSS peak / p99 delivery`,
    value: `${fmt(rssPeak)} MiB / ${fmt(s.p99, 1)} ms`,
    detail: {
      subscriptions: o.fanoutSubs,
      connections: o.fanoutConns,
      jobs: o.fanoutJobs,
      updates_per_job: updates,
      deliveries_expected: expected,
      deliveries_received: lat.length,
      deliveries_coalesced: coalesced,
      delivery_ms: s,
      api_rss_mib: { idle: rssIdle, subscriptions_open: rssOpen, peak: rssPeak },
      open_ms: openMs,
      client_threads: o.fanoutThreads,
      event_loop_delay_p99_ms: { api: Math.round(apiLagP99 * 1000), client_threads: received.lagP99Ms },
      cpu_ms: used.ms,
      clock_offset_ms: Math.round(clock.offsetMs * 1000) / 1000,
      ...once,
    },
  };
}
