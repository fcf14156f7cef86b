/**
 * Every SQL statement about notifications: the subscriptions a job declares at submit, the deliveries its
 * terminal transition creates (with their outbox entries, in that same statement: see
 * `NOTIFY_ON_TERMINAL_CTES`), the notifier's guarded delivery updates, and the re-queue of the deliveries
 * that waited in PostgreSQL for their next try (`requeueDueDeliveries`).
 *
 * A delivery's messages are numbered: the terminal transition's is 0, the re-queue pass's n-th is n (the
 * row's `requeues`). A message may start an attempt only while its delivery is PENDING, not waiting
 * (`next_attempt_at` null) and its number is the row's: a duplicate or an older message does nothing.
 */
import type { Sql } from './client.js';
import type { OutboxEntry } from './outbox.js';
import type { StaleCursor } from './stale-jobs.js';
import type { JobNotificationRow, NotificationDeliveryRow } from './schema.js';
import type { JobState } from '../jobs/state.js';

/** A subscription to insert (validated by `notifications/validate.ts`). */
export interface NewNotification {
  jobId: string;
  channel: JobNotificationRow['channel'];
  target: string;
  onStates: JobState[];
  subject: string;
}

/** A delivery with what the notifier needs to send it. */
export type DeliveryToSend = Omit<NotificationDeliveryRow, 'msgSeq'> & Pick<JobNotificationRow, 'channel' | 'target'>;

/** A delivery being sent, with its job's owner (whose secret signs a webhook in owner scope). */
export type DeliveryAttempt = DeliveryToSend & { owner: string };

/** A delivery's message, as the notifier got it: which delivery, and which of its messages (see above). */
export interface DeliveryMessage {
  id: string;
  requeue: number;
}

const DELIVERY_COLUMNS = `d.id, d.notification_id::int8 as "notificationId", d.job_id as "jobId", d.series,
  d.job_state as "jobState", d.status, d.attempts, d.last_error as "lastError", d.next_attempt_at as "nextAttemptAt",
  d.requeues, d.body, d.created_at as "createdAt", d.updated_at as "updatedAt", d.finished_at as "finishedAt"`;

/** The msg id of delivery `d`'s latest message: its id, then `:<n>` from the first re-queue on. */
const latestMsgId = (d: string) => `${d}.id::text || case when ${d}.requeues = 0 then '' else ':' || ${d}.requeues end`;

/**
 * An outbox entry for delivery `d` (with `notification_deliveries` columns) of subscription `n`: a message on
 * the notifications stream naming the delivery, its receiver and its number (`requeues`).
 */
const deliveryEntry = (d: string, n: string) => `${d}.job_id, ${n}.subject, ${latestMsgId(d)},
  jsonb_build_object('deliveryId', ${d}.id, 'channel', ${n}.channel, 'target', ${n}.target, 'requeue', ${d}.requeues)`;

/**
 * CTEs appended to a terminal transition (`db/transition.ts`), after its `j` CTE (the updated job): for each of the
 * job's subscriptions whose `on` list has the new state, a delivery (id = the delivery id receivers dedupe
 * on; body = the job as of this transition) and an outbox entry for the notifications stream. Once per
 * subscription, attempt series and state (a replayed job can notify again).
 */
export const NOTIFY_ON_TERMINAL_CTES = `, notify_d as (
       insert into notification_deliveries (id, notification_id, job_id, series, job_state, body)
       select gen_random_uuid(), n.id, j.id, j.series, j.state, jsonb_build_object(
         'id', j.id, 'type', j.type, 'state', j.state, 'result', j.result, 'error', j.error,
         'attempts', j.attempts, 'maxAttempts', j.max_attempts, 'createdAt', j.created_at,
         'startedAt', j.started_at, 'finishedAt', j.finished_at)
       from j join job_notifications n on n.job_id = j.id and j.state = any(n.on_states)
       on conflict do nothing
       returning id, notification_id, job_id, requeues
     ), notify_o as (
       insert into outbox (job_id, subject, msg_id, body, traceparent)
       select ${deliveryEntry('d', 'n')}, j.traceparent
       from notify_d d join job_notifications n on n.id = d.notification_id join j on j.id = d.job_id
     )`;

/** Inserts a submit's subscriptions (inside the submit's transaction). */
export async function insertNotifications(sql: Sql, rows: NewNotification[]): Promise<void> {
  if (!rows.length) return;
  await sql.unsafe(
    `insert into job_notifications (job_id, channel, target, on_states, subject)
     select job_id, channel, target, array(select jsonb_array_elements_text(on_states))::job_state[], subject
     from jsonb_to_recordset($1::text::jsonb) as x(job_id uuid, channel text, target text, on_states jsonb, subject text)`,
    [JSON.stringify(rows.map((r) => ({ job_id: r.jobId, channel: r.channel, target: r.target, on_states: r.onStates, subject: r.subject })))],
  );
}

/** Deliveries of several jobs, oldest first. */
export async function deliveriesOf(sql: Sql, jobIds: readonly string[]): Promise<DeliveryToSend[]> {
  return sql.unsafe<DeliveryToSend[]>(
    `select ${DELIVERY_COLUMNS}, n.channel, n.target from notification_deliveries d
     join job_notifications n on n.id = d.notification_id
     where d.job_id = any($1::uuid[]) order by d.job_id, d.created_at, n.id`,
    [jobIds as never],
  );
}

/** `$1` names a delivery and `$2` its message's number: the delivery is PENDING, not waiting, and that is its latest message. */
const MESSAGE_MAY_ACT = `id = $1 and status = 'PENDING' and next_attempt_at is null and requeues = $2`;

/**
 * Starts a send attempt (attempts + 1) of the delivery a message names; null when that message may not start
 * one: the delivery is SENT, FAILED, gone (its job was deleted), waiting for its `next_attempt_at`, or the
 * message is not its latest (see above).
 */
export async function beginDeliveryAttempt(sql: Sql, m: DeliveryMessage): Promise<DeliveryAttempt | null> {
  const [row] = await sql.unsafe<DeliveryAttempt[]>(
    `with d as (
       update notification_deliveries set attempts = attempts + 1, updated_at = now()
       where ${MESSAGE_MAY_ACT} returning *
     )
     select ${DELIVERY_COLUMNS}, n.channel, n.target, j.owner from d
     join job_notifications n on n.id = d.notification_id join jobs j on j.id = d.job_id`,
    [m.id, m.requeue],
  );
  return row ?? null;
}

/**
 * Makes a PENDING delivery wait in PostgreSQL until `delayMs` from now: after a failed attempt with attempts
 * left (`error`: its error, kept), or a turn its receiver had no slot for (no error, not an attempt). Its
 * message is acked after this; the re-queue pass publishes a new one once it is due. Only the message the
 * delivery expects, and only once: false when the delivery is finished, gone, waiting already, or the message
 * is an older one (nothing to do: ack it).
 */
export async function waitForNextAttempt(
  sql: Sql,
  a: DeliveryMessage & { delayMs: number; error?: string | null },
): Promise<boolean> {
  const rows = await sql.unsafe(
    `update notification_deliveries
     set next_attempt_at = now() + $3 * interval '1 millisecond', last_error = coalesce($4, last_error), updated_at = now()
     where ${MESSAGE_MAY_ACT} returning id`,
    [a.id, a.requeue, a.delayMs, a.error ?? null],
  );
  return rows.length > 0;
}

/**
 * PENDING → SENT (the receiver accepted it) or FAILED (dead-lettered, with its last error). `unsent`: the
 * attempt just begun sent nothing (its attempts were used up), so it does not count.
 */
export async function finishDelivery(
  sql: Sql,
  a: { id: string; status: 'SENT' | 'FAILED'; error?: string | null; unsent?: boolean },
): Promise<boolean> {
  const rows = await sql.unsafe(
    `update notification_deliveries set status = $2, last_error = coalesce($3, last_error), updated_at = now(),
       finished_at = now(), next_attempt_at = null, attempts = attempts - $4::int
     where id = $1 and status = 'PENDING' returning id`,
    [a.id, a.status, a.error ?? null, a.unsent ? 1 : 0],
  );
  return rows.length > 0;
}

/**
 * The re-queue pass: up to `limit` deliveries whose `next_attempt_at` has come, oldest due first, stop
 * waiting (`next_attempt_at` null, `requeues` + 1) and get an outbox entry each (msg id `<delivery id>:<n>`,
 * new for every re-queue, so JetStream's dedupe keeps it), in one statement: a crash leaves a delivery either
 * still due or with its entry committed. Rows another pass holds are skipped (`for update skip locked`), and
 * one that pass has re-queued meanwhile no longer matches when this one gets to it, so each due delivery is
 * re-queued once however many API processes run the pass. Answers the entries, for the relay to publish.
 */
export async function requeueDueDeliveries(sql: Sql, limit: number): Promise<OutboxEntry[]> {
  const rows = await sql.unsafe<(OutboxEntry & { id: string })[]>(
    `with due as (
       select id from notification_deliveries
       where status = 'PENDING' and next_attempt_at is not null and next_attempt_at <= now()
       order by next_attempt_at limit $1 for update skip locked
     ), d as (
       update notification_deliveries nd set next_attempt_at = null, requeues = requeues + 1, updated_at = now()
       from due where nd.id = due.id
       returning nd.id, nd.notification_id, nd.job_id, nd.requeues
     )
     insert into outbox (job_id, subject, msg_id, body, traceparent)
     select ${deliveryEntry('d', 'n')}, (select j.traceparent from jobs j where j.id = d.job_id)
     from d join job_notifications n on n.id = d.notification_id
     returning id, job_id as "jobId", subject, msg_id as "msgId", body, traceparent`,
    [limit],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** A delivery the reconciler looks at: its latest message, and that message's stream sequence if known. */
export interface StaleDelivery extends DeliveryMessage, StaleCursor {
  /** Where JetStream put its latest message; null: not recorded (published before migration 0007). */
  messageSeq: number | null;
}

/**
 * Deliveries the reconciler should look at, oldest first, after `after` (a pass's cursor): PENDING, not
 * waiting, untouched for `staleMs` (no attempt began and no turn was recorded meanwhile), whose latest
 * message was published. Normally such a message is sent within seconds; one untouched this long is still
 * in the stream behind a backlog, or lost.
 */
export async function findStaleDeliveries(sql: Sql, staleMs: number, limit: number, after: StaleCursor | null = null): Promise<StaleDelivery[]> {
  return sql.unsafe<StaleDelivery[]>(
    `select d.id, d.requeues as requeue, d.msg_seq::float8 as "messageSeq", d.updated_at::text as "cursorAt"
     from notification_deliveries d
     where d.status = 'PENDING' and d.next_attempt_at is null and d.updated_at < now() - $1 * interval '1 millisecond'
       and not exists (select 1 from outbox o where o.job_id = d.job_id and o.msg_id = ${latestMsgId('d')} and o.published_at is null)
       and ($3::text is null or (d.updated_at, d.id) > ($3::text::timestamptz, $4::uuid))
     order by d.updated_at, d.id limit $2`,
    [staleMs, limit, after?.cursorAt ?? null, after?.id ?? null] as never[],
  );
}

/**
 * Makes a delivery whose latest message JetStream lost due now, so that the re-queue pass publishes a new
 * one (and the old one, should it come back, may not act): only if that is still its latest message and it
 * is untouched since it was found (`cursorAt`, its `updated_at` then: no attempt began meanwhile).
 */
export async function requeueLostDelivery(sql: Sql, d: DeliveryMessage & StaleCursor): Promise<boolean> {
  const rows = await sql.unsafe(
    `update notification_deliveries set next_attempt_at = now(), updated_at = now()
     where ${MESSAGE_MAY_ACT} and updated_at = $3::text::timestamptz returning id`,
    [d.id, d.requeue, d.cursorAt],
  );
  return rows.length > 0;
}
