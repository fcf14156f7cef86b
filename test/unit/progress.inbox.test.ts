/**
 * The per-subscription update inbox: latest-wins progress for one job's stream (jobProgress), every
 * update for a live-only stream (jobUpdates).
 */
import { describe, expect, it } from 'vitest';
import type { JobState } from '../../src/jobs/state.js';
import type { JobUpdateMessage } from '../../src/messaging/messages.js';
import { UpdateInbox } from '../../src/progress/inbox.js';

const update = (seq: number, state: JobState, attempt = 1, progress = 0): JobUpdateMessage => ({
  jobId: 'j',
  type: 't',
  seq,
  state,
  progress,
  message: null,
  attempt,
  at: '2026-01-01T00:00:00.000Z',
});

/** Everything queued, in the order `take()` gives it. */
async function drain(inbox: UpdateInbox): Promise<number[]> {
  const seqs: number[] = [];
  inbox.push(update(999, 'CANCELLED')); // an end marker
  for (;;) {
    const u = await inbox.take();
    if (!u || u.seq === 999) return seqs;
    seqs.push(u.seq);
  }
}

/** A run with a retry: claim, reports, RETRYING, second claim, reports, SUCCEEDED. */
const run = [
  update(2, 'RUNNING', 1, 0),
  update(3, 'RUNNING', 1, 10),
  update(4, 'RUNNING', 1, 20),
  update(5, 'RUNNING', 1, 30),
  update(6, 'RETRYING', 1, 30),
  update(7, 'RUNNING', 2, 0),
  update(8, 'RUNNING', 2, 50),
  update(9, 'RUNNING', 2, 100),
  update(10, 'SUCCEEDED', 2, 100),
];

describe('UpdateInbox', () => {
  it('keeps every state change and the latest report before it, in order, for a subscriber that is behind', async () => {
    const inbox = new UpdateInbox({ max: 100, onFull: 'empty', latestProgress: true });
    for (const u of run) inbox.push(u);
    // 2 and 7 are claims (state changes), 6 and 10 state changes, 5 and 9 the latest reports of each attempt.
    expect(await drain(inbox)).toEqual([2, 5, 6, 7, 9, 10]);
  });

  it('gives a subscriber that keeps up every report', async () => {
    const inbox = new UpdateInbox({ max: 100, onFull: 'empty', latestProgress: true });
    const seen: number[] = [];
    for (const u of run) {
      inbox.push(u);
      seen.push((await inbox.take())!.seq);
    }
    expect(seen).toEqual(run.map((u) => u.seq));
  });

  it('replaces a waiting report after one already taken, but never the first update after a clear', async () => {
    const inbox = new UpdateInbox({ max: 100, onFull: 'empty', latestProgress: true });
    inbox.push(run[0]!);
    expect((await inbox.take())!.seq).toBe(2);
    inbox.push(run[1]!);
    inbox.push(run[2]!);
    expect((await inbox.take())!.seq).toBe(4);
    inbox.clear(); // resynchronised from PostgreSQL: what came before is unknown here
    inbox.push(run[3]!);
    inbox.push(update(11, 'RUNNING', 1, 40));
    inbox.push(update(12, 'RUNNING', 1, 50));
    expect(await drain(inbox)).toEqual([5, 12]);
  });

  it('never replaces an older report by a late one (out of order) or a report of another attempt', async () => {
    const inbox = new UpdateInbox({ max: 100, onFull: 'empty', latestProgress: true });
    inbox.push(update(2, 'RUNNING', 1, 0));
    inbox.push(update(4, 'RUNNING', 1, 20));
    inbox.push(update(3, 'RUNNING', 1, 10));
    inbox.push(update(7, 'RUNNING', 2, 0));
    expect(await drain(inbox)).toEqual([2, 4, 3, 7]);
  });

  it('keeps every update of a live-only stream (no latestProgress)', async () => {
    const inbox = new UpdateInbox({ max: 100, onFull: 'drop-oldest' });
    for (const u of run) inbox.push(u);
    expect(await drain(inbox)).toEqual(run.map((u) => u.seq));
  });
});

describe('UpdateInbox direct delivery', () => {
  it('hands an update straight over while the taker waits with nothing queued, and queues it otherwise', async () => {
    const inbox = new UpdateInbox({ max: 100, onFull: 'empty', latestProgress: true });
    const direct: number[] = [];
    let accept = true;
    inbox.direct = (u) => accept && direct.push(u.seq) > 0;
    inbox.push(run[0]!); // nobody waits yet: queued
    expect((await inbox.take())!.seq).toBe(2);
    const waiting = inbox.take();
    inbox.push(run[1]!); // the taker waits, nothing queued: direct
    inbox.push(run[2]!);
    accept = false;
    inbox.push(run[3]!); // refused: queued, and wakes the taker
    inbox.push(run[4]!); // queued behind it, in order
    expect(direct).toEqual([3, 4]);
    expect((await waiting)!.seq).toBe(5);
    expect((await inbox.take())!.seq).toBe(6);
  });
});
