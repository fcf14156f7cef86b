/**
 * Copies an older longrun (before 2026-12-05) made in the dead-letter stream on a job type's own subject
 * (`<prefix>dead.<type>`), before each job had one. A worker of that longrun killed between publishing a
 * FAILED job's copy and recording it left the copy there; once the job's message comes back to a newer worker
 * after the duplicate window (an upgrade that kept the type's workers stopped longer), that copy is found
 * here and recorded, instead of a second one being made on the job's own subject (counted twice, and the
 * older left in the stream with no job once the job is replayed or deleted).
 */
import type { JobRow } from '../db/schema.js';
import type { Nats } from './connect.js';
import { jobMessageSchema, parseMessage } from './messages.js';
import type { Names } from './names.js';
import { messagesOnSubject, nextOnSubject } from './subject-reads.js';

/** How far the NATS server's clock may lag PostgreSQL's when telling the copies made since a job failed. */
const CLOCK_MARGIN_MS = 60_000;

/**
 * The sequence of job `job`'s copy of its attempt series on its type's older subject, null when there is
 * none. Such a copy is made after the job turned FAILED, so only the copies made since (less
 * CLOCK_MARGIN_MS) are read: none once the newest there is older, the usual case (one request); else from the
 * first one since then, found by a search over the stream's sequences (copies are in time order).
 */
export async function legacyCopyOf(d: { nats: Nats; names: Names }, job: Pick<JobRow, 'id' | 'type' | 'series' | 'state' | 'finishedAt'>): Promise<number | null> {
  if (job.state !== 'FAILED' || job.finishedAt === null) return null;
  const { jsm } = d.nats;
  const stream = d.names.deadLetterStream;
  const subject = d.names.legacyDeadLetterSubject(job.type);
  const since = job.finishedAt.getTime() - CLOCK_MARGIN_MS;
  const newest = await jsm.streams.getMessage(stream, { last_by_subj: subject });
  if (!newest || newest.time.getTime() < since) return null;
  let lo = (await jsm.streams.info(stream)).state.first_seq;
  for (let hi = newest.seq; lo < hi; ) {
    const mid = Math.floor((lo + hi) / 2);
    const m = await nextOnSubject(jsm, stream, d.names.deadLetterPattern, mid);
    if (m && m.time.getTime() >= since) hi = mid;
    else lo = mid + 1;
  }
  for await (const m of messagesOnSubject(jsm, stream, subject, lo)) {
    const copied = parseMessage(jobMessageSchema, m.data);
    if (copied?.id.toLowerCase() === job.id.toLowerCase() && copied.series === job.series) return m.seq;
  }
  return null;
}
