/**
 * `publishUpdates` over a real NATS server: submissions that say the same but for the job id go as one
 * message on their type's submitted subject; any other update (another owner's, another instant's, a later
 * seq) on its job's own subject; and what a subscriber reads back (`updatesIn`) is each update as given.
 * The hub hands such a message out in slices (DISPATCH_SLICE) and keeps the order of what comes after it.
 */
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { expect, it } from 'vitest';
import type { JobUpdateMessage } from '../../src/messaging/messages.js';
import { names } from '../../src/messaging/names.js';
import { createUpdateHub, DISPATCH_SLICE } from '../../src/progress/hub.js';
import { publishUpdates, updatesIn } from '../../src/progress/updates.js';
import { NATS_URL } from '../setup/global.js';

const submission = (jobId: string, over: Partial<JobUpdateMessage> = {}): JobUpdateMessage => ({
  jobId,
  type: 'demo.noop',
  owner: 'alice',
  seq: 1,
  state: 'QUEUED',
  progress: 0,
  message: null,
  attempt: 0,
  at: '2026-12-08T02:00:00.000Z',
  result: null,
  error: null,
  ...over,
});

it('sends alike submissions of a type as one message, the rest one each, and reads back each update as given', async () => {
  const n = names(`u${randomBytes(3).toString('hex')}_`);
  const nc = await connect({ servers: NATS_URL });
  try {
    const received: { subject: string; updates: JobUpdateMessage[] }[] = [];
    nc.subscribe(`${n.prefix}job.>`, { callback: (_e, m) => void received.push({ subject: m.subject, updates: updatesIn(m.subject, m.data) }) });
    await nc.flush();
    const id = (i: number) => `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`;
    const alike = [1, 2, 3].map((i) => submission(id(i)));
    const others = [
      submission(id(4), { owner: 'bob' }), // another owner
      submission(id(5), { at: '2026-12-08T02:00:00.001Z' }), // another instant
      submission(id(6), { type: 'demo.sleep' }), // alone of its type
      submission(id(7), { seq: 2, state: 'RUNNING', attempt: 1 }), // not a submission
    ];
    const many = Array.from({ length: 1001 }, (_, i) => submission(id(100 + i), { type: 'demo.flaky' })); // past one message's ids
    publishUpdates(nc, n, [...alike, ...others, ...many]);
    // A malformed submissions message carries nothing.
    nc.publish(n.submittedSubject('demo.noop'), '{"jobIds":["x"]}');
    await nc.flush();

    const by = (subject: string) => received.filter((r) => r.subject === subject).map((r) => r.updates);
    expect(by(n.submittedSubject('demo.noop'))).toEqual([alike, []]);
    expect(by(n.submittedSubject('demo.flaky'))).toEqual([many.slice(0, 1000), many.slice(1000)]);
    for (const u of others) expect(by(n.updateSubject(u.type, u.state, u.jobId))).toEqual([[u]]);
    expect(received).toHaveLength(2 + 2 + others.length);
  } finally {
    await nc.close();
  }
});

it("hands a big submissions message's updates out in slices, and what comes after it after them", async () => {
  const n = names(`u${randomBytes(3).toString('hex')}_`);
  const nc = await connect({ servers: NATS_URL });
  const hub = createUpdateHub(nc);
  try {
    const got: JobUpdateMessage[] = [];
    /** How many updates each dispatch (one flush: `afterDispatch`) handed out. */
    const slices: number[] = [];
    let since = 0;
    hub.afterDispatch(() => {
      slices.push(got.length - since);
      since = got.length;
    });
    hub.listen(n.updatesPattern(null, null), { update: (u) => void got.push(u), resync: () => {} });
    await hub.subscribed([n.updatesPattern(null, null)]);
    const id = (i: number) => `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`;
    const batch = Array.from({ length: 1000 }, (_, i) => submission(id(i)));
    const running = submission(id(999), { seq: 2, state: 'RUNNING', attempt: 1, at: '2026-12-08T02:00:00.050Z' });
    publishUpdates(nc, n, batch);
    nc.publish(n.updateSubject('demo.noop', 'RUNNING', id(999)), JSON.stringify(running));
    await nc.flush();
    for (let i = 0; i < 100 && got.length < 1001; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([...batch, running]);
    expect(Math.max(...slices)).toBeLessThanOrEqual(DISPATCH_SLICE);
    expect(slices.reduce((a, b) => a + b, 0)).toBe(1001);
  } finally {
    hub.close();
    await nc.close();
  }
});
