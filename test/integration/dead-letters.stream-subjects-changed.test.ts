/**
 * The dead-letter stream still there but taking none of the copies' subjects (an operator changed them; or it
 * was deleted between the read of a job's copies and the copy's publish): a job that fails for good still gets
 * its copy and is listed as a dead letter. The read of its copies succeeds, and the copy's `js.publish` gets
 * no responder, which nats.js reports as "jetstream is not enabled"; that failure makes the process set its
 * streams up again (stream-repair.ts), their subjects included, and the redelivered message is copied then.
 * Before, it was not taken for a missing stream: with every pull still answered, every try failed the same
 * way until a longrun process restarted, and `deadLetters` never listed the job.
 */
import { expect, it } from 'vitest';
import { startTestApp } from '../support/app.js';
import { failedAndListed } from '../support/dead-letter-copies.js';
import { useFixture } from '../support/fixture.js';

const f = useFixture(async (later) => {
  const t = await startTestApp();
  later(() => t.dispose());
  return { t };
});

it('a job failed for good while the dead-letter stream took none of its subjects is copied once they are set again, and listed', async () => {
  const { nats, names } = f.t.app.deps;
  await nats.jsm.streams.update(names.deadLetterStream, { subjects: [`${f.t.env.prefix}elsewhere.>`] });
  const { id, copy } = await failedAndListed(f.t, 30_000);
  expect((await nats.jsm.streams.info(names.deadLetterStream)).config.subjects).toEqual([names.deadLetterPattern]);
  expect(copy?.subject).toBe(names.deadLetterSubject('demo.flaky', id));
}, 60_000);
