/**
 * The outbox's bookkeeping for its relay: the entries waiting to be published, marking them published
 * (with their stream sequences), purging the published ones, and the backlog's size for metrics. Entries
 * are written with the changes they announce (a submit: jobs.ts; a replay: replay.ts; a lost message:
 * stale-jobs.ts; a notification delivery: notifications.ts).
 */
import { preparing, type Sql } from './client.js';
import type { DeliveryMessage } from './notifications.js';

/** What the outbox relay publishes. */
export interface OutboxEntry {
  id: number;
  jobId: string;
  subject: string;
  msgId: string;
  body: unknown;
  traceparent: string | null;
  /** A scheduled job's entry: not published before this instant (left to the relay loop); null: at once. */
  notBefore?: Date | null;
}

/**
 * A published outbox entry: `seq` is the job message's stream sequence (null for other streams' messages);
 * a notification delivery's message has its delivery, message number and sequence in `delivery` instead.
 */
export interface PublishedEntry {
  id: number;
  seq: number | null;
  delivery?: DeliveryMessage & { seq: number };
}

/**
 * A FROM item for statements whose loss in a PostgreSQL crash costs nothing but work redone: their commit
 * does not wait for the WAL to reach the disk (`synchronous_commit = off`, for that transaction only), so
 * they do not queue in front of the commits that must be durable (submits, claims, outcomes). WAL is
 * sequential, so the next durable commit makes them durable too.
 */
/**
 * Whether outbox entry `o` is a job message (on the jobs stream; its body names the job's attempt series),
 * not a notification delivery (on the notifications stream): their `stream_seq`s count in different streams.
 */
export const isJobMessage = (o: string) => `${o}.body ? 'series'`;

const NO_FLUSH_WAIT = `(select set_config('synchronous_commit', 'off', true)) as no_flush_wait`;

const MARK_PUBLISHED = `update outbox set published_at = now(), stream_seq = a.seq
  from unnest($1::bigint[], $2::bigint[]) as a(id, seq), ${NO_FLUSH_WAIT}
  where outbox.id = a.id and published_at is null`;

/**
 * Records entries as published, with their stream sequences. (The job row is not written again: its claim
 * records the sequence there; until then the reconciler and the dead-letter component read it here.) A
 * notification delivery's sequence goes on the delivery, if that message is still its latest (the
 * reconciler checks it there). Not waited for on disk (NO_FLUSH_WAIT): if a crash loses it, the relay
 * publishes the entries again (JetStream drops the repeat inside the duplicate window and answers with the
 * first one's sequence; the claim guard outside it).
 */
export async function markPublished(sql: Sql, acks: PublishedEntry[]): Promise<void> {
  if (!acks.length) return;
  const params = [acks.map((a) => a.id), acks.map((a) => a.seq)];
  const ds = acks.flatMap((a) => (a.delivery ? [a.delivery] : []));
  if (!ds.length) return void (await sql.unsafe(MARK_PUBLISHED, params as never));
  await sql.unsafe(
    `with n as (
       update notification_deliveries d set msg_seq = n.seq
       from unnest($3::uuid[], $4::int[], $5::bigint[]) as n(id, requeue, seq)
       where d.id = n.id and d.requeues = n.requeue
     ) ${MARK_PUBLISHED}`,
    [...params, ds.map((d) => d.id), ds.map((d) => d.requeue), ds.map((d) => d.seq)] as never,
  );
}

const ENTRY_COLUMNS = `id, job_id as "jobId", subject, msg_id as "msgId", body, traceparent`;

/**
 * Locks up to `limit` unpublished outbox entries older than `minAgeMs` (so entries the submitting process is
 * publishing right now are left to it), or of any age on `anyAgeSubject` (entries nobody publishes at once:
 * notification deliveries, written by a terminal transition), and up to `limit` scheduled entries that are
 * due (`not_before` passed, by PostgreSQL's clock; nobody publishes those at once either), and runs `publish`
 * with them inside the transaction; several relays skip each other's rows. A due scheduled entry whose job is
 * no longer waiting (QUEUED, or RETRYING: a copy `rescheduleJob` queued; cancelled while it waited, claimed
 * from another message, or deleted) is marked published without being published: its message would do nothing.
 */
export async function withUnpublished(
  sql: Sql,
  a: { limit: number; minAgeMs: number; anyAgeSubject: string },
  publish: (entries: OutboxEntry[]) => Promise<PublishedEntry[]>,
): Promise<number> {
  return sql.begin(async (raw) => {
    const tx = preparing(raw);
    const rows = await tx.unsafe<(OutboxEntry & { id: string; void: boolean })[]>(
      `with waiting as (
         select ${ENTRY_COLUMNS}, false as void from outbox
         where published_at is null and not_before is null and (created_at < now() - $1 * interval '1 millisecond' or subject = $3)
         order by id limit $2 for update skip locked
       ), due as (
         -- in outbox_scheduled's order, so a pass reads no more than $2 of a large due backlog (no sort)
         select ${ENTRY_COLUMNS}, not exists (select 1 from jobs j where j.id = outbox.job_id and j.state in ('QUEUED', 'RETRYING')) as void
         from outbox where published_at is null and not_before <= now()
         order by not_before limit $2 for update skip locked
       )
       select * from waiting union all select * from due`,
      [a.minAgeMs, a.limit, a.anyAgeSubject],
    );
    if (!rows.length) return 0;
    const live = rows.filter((r) => !r.void).map(({ void: _, ...r }) => ({ ...r, id: Number(r.id) }));
    const acks = live.length ? await publish(live) : [];
    const dropped = rows.filter((r) => r.void).map((r) => ({ id: Number(r.id), seq: null }));
    await markPublished(tx as unknown as Sql, [...acks, ...dropped]);
    return acks.length + dropped.length;
  });
}

/**
 * Moves a rescheduled job's unpublished scheduled messages (`rescheduleJob`) to `notBefore` (null: at once,
 * for `publishSoon`), inside the caller's transaction; answers them. Only scheduled ones (`not_before` set):
 * the relay loop publishes those and marks them in the transaction that locks them, so unmarked means
 * unpublished. An immediate entry may be published and not marked yet (`publishSoon` marks 50 ms later):
 * moved, it would stand for a message that is already in the stream (and the dedupe window would drop it).
 * Moved to now, an entry is made as of now (`created_at`), as a submit's: the backlog's age counts from then,
 * not from a submit months before, and the relay leaves it to `publishSoon` for its first seconds.
 */
export async function rescheduleEntries(tx: Sql, jobId: string, notBefore: Date | null): Promise<OutboxEntry[]> {
  const rows = await tx.unsafe<(OutboxEntry & { id: string })[]>(
    `update outbox set not_before = $2, created_at = case when $2::timestamptz is null then now() else created_at end
     where job_id = $1 and published_at is null and not_before is not null and ${isJobMessage('outbox')}
     returning ${ENTRY_COLUMNS}, not_before as "notBefore"`,
    [jobId, notBefore?.toISOString() ?? null],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/**
 * Deletes published outbox entries older than `olderThanMs`, except those of jobs not done with whose message
 * no claim has recorded yet (`msg_seq` null: waiting, or RUNNING under a lease that ran out and re-queued by
 * the reconciler): their entry holds the stream sequence the reconciler checks, which would otherwise publish
 * another copy. Not waited for on disk (NO_FLUSH_WAIT): a purge a crash loses is done again.
 */
export async function purgePublished(sql: Sql, olderThanMs: number): Promise<void> {
  await sql.unsafe(
    `delete from outbox o using ${NO_FLUSH_WAIT} where published_at < now() - $1 * interval '1 millisecond'
       and not exists (select 1 from jobs j where j.id = o.job_id and j.msg_seq is null and j.state in ('QUEUED', 'RETRYING', 'RUNNING'))`,
    [olderThanMs],
  );
}

/**
 * Count and age of the outbox backlog: the entries waiting to be published, a scheduled job's once it is due
 * (its age counted from then); one not due yet is not behind.
 */
export async function outboxBacklog(sql: Sql): Promise<{ count: number; oldestAgeMs: number }> {
  const [row] = await sql<{ count: number; oldestAgeMs: number | null }[]>`
    select count(*)::int as count, (extract(epoch from now() - min(coalesce(not_before, created_at))) * 1000)::float8 as "oldestAgeMs"
    from outbox where published_at is null and (not_before is null or not_before <= now())`;
  return { count: row?.count ?? 0, oldestAgeMs: row?.oldestAgeMs ?? 0 };
}
