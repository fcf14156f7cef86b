/**
 * `retry`, `cancel` and `purge` over every job that matches: the server works a page (at most 1,000 jobs) per
 * call, and these call it again while it says more match.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { LongrunError, type LongrunClient, type UserErrorFieldsFragment } from '../sdk/index.js';
import type { CommandArgs } from './commands.js';
import { refused, type Output } from './output.js';

/**
 * Calls a mutation that works a page per call (`purgeJobs`, `retryJobs`, `cancelJobs`) until it says nothing more matches;
 * `call` makes one call and counts what it did. Refused input ends it (exit 2; that call did nothing: a later
 * page can be refused where the first were not, as `retry --timeout-ms` is by a page with a type whose range
 * it is outside); an error ends it too and is thrown. Either way, what the calls before did (`done`) is said
 * first. Null: every call went through.
 */
async function untilNoMore(
  o: Output,
  call: () => Promise<{ userErrors: readonly UserErrorFieldsFragment[]; more: boolean }>,
  done: () => string | 0,
): Promise<number | null> {
  const before = (what: string) => {
    const did = done();
    if (did) o.err(`${did} before the ${what}`);
  };
  try {
    for (let more = true; more; ) {
      const r = await call();
      if (r.userErrors.length) {
        before('refusal');
        return refused(o, r.userErrors);
      }
      more = r.more;
    }
  } catch (e) {
    before('error');
    throw e;
  }
  return null;
}

/**
 * A call of `retry` or `purge` that did nothing while the server says more match: the jobs left are held by
 * another transaction (a replay, a retention pass, the dead-letter recorder's write). It waits this long
 * before the next call, and gives up after HELD_CALLS such calls in a row.
 */
const HELD_PAUSE_MS = 200;
const HELD_CALLS = 50;

/** Paces the calls of a loop by what each did (`done`) while more match: see HELD_PAUSE_MS. */
function heldPacer(what: string): (done: number, more: boolean) => Promise<void> {
  let held = 0;
  return async (done, more) => {
    held = done === 0 && more ? held + 1 : 0;
    if (held === HELD_CALLS) {
      const s = (HELD_CALLS * HELD_PAUSE_MS) / 1000;
      throw new LongrunError(`${what} that match were held by another transaction for ${s} s (a replay or a retention pass under way?): run it again`, 'BUSY');
    }
    if (held) await delay(HELD_PAUSE_MS);
  };
}

/**
 * `retry` without an id: every FAILED job that matches, a page (at most 1,000) per call while the server says
 * more match. The first call's `failedBefore` (the server's time, unless given) bounds the later ones, so a
 * job that fails again after its replay is not replayed again.
 */
export async function retryMatching(client: LongrunClient, a: CommandArgs, options: { timeoutMs?: number }, o: Output): Promise<number> {
  const input = {
    types: a.types ?? null,
    failedAfter: a.failedAfter ?? null,
    failedBefore: a.failedBefore ?? null,
    onlyDeadLettered: a.deadLettered || null,
    ...options,
  };
  let retried = 0;
  const pace = heldPacer('FAILED jobs');
  const exit = await untilNoMore(
    o,
    async () => {
      const r = await client.retryJobs(input);
      retried += r.retried;
      input.failedBefore = r.failedBefore ?? null;
      await pace(r.retried, r.hasMore);
      return { userErrors: r.userErrors, more: r.hasMore };
    },
    () => retried && `retried ${retried} jobs`,
  );
  if (exit !== null) return exit;
  o.out(a.json ? JSON.stringify({ retried }) : `retried ${retried} jobs`);
  return 0;
}

/**
 * `cancel` without an id: every job not finished that matches, a page (at most 1,000) per call while the
 * server says more match. The first call's `submittedBefore` (the server's time) bounds the later ones, so
 * jobs submitted meanwhile are left alone.
 */
export async function cancelMatching(client: LongrunClient, a: CommandArgs, o: Output): Promise<number> {
  const input = { types: a.types ?? null, states: a.states ?? null, submittedBefore: null as string | null };
  let cancelled = 0;
  let requested = 0;
  const said = () => `cancelled ${cancelled} jobs, asked the workers of ${requested} running ones to stop them`;
  const exit = await untilNoMore(
    o,
    async () => {
      const r = await client.cancelJobs(input);
      cancelled += r.cancelled;
      requested += r.cancelRequested;
      input.submittedBefore = r.submittedBefore ?? null;
      return { userErrors: r.userErrors, more: r.hasMore };
    },
    () => (cancelled + requested) && said(),
  );
  if (exit !== null) return exit;
  o.out(a.json ? JSON.stringify({ cancelled, cancelRequested: requested }) : said());
  return 0;
}

/** `purge`: finished jobs that match, at most 10,000 per call while the server says more match. */
export async function purgeMatching(client: LongrunClient, a: CommandArgs, o: Output): Promise<number> {
  const input = { olderThanSeconds: a.olderThanSeconds!, states: a.states ?? null, dryRun: a.dryRun };
  let purged = 0;
  let copies = 0;
  const pace = heldPacer('Finished jobs');
  const exit = await untilNoMore(
    o,
    async () => {
      const r = await client.purgeJobs(input);
      purged += r.purged;
      copies += r.deadLetterCopiesRemoved;
      const more = r.hasMore && !a.dryRun;
      await pace(r.purged, more);
      return { userErrors: r.userErrors, more };
    },
    () => purged && `purged ${purged} jobs`,
  );
  if (exit !== null) return exit;
  if (a.json) o.out(JSON.stringify({ dryRun: a.dryRun, purged, deadLetterCopiesRemoved: copies }));
  else if (a.dryRun) o.out(`would purge ${purged} jobs`);
  else o.out(`purged ${purged} jobs (${copies} dead-letter copies removed)`);
  return 0;
}
