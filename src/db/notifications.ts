/**
 * Every SQL statement about notifications: the subscriptions a job declares at submit, the deliveries its
 * terminal transition creates (with their outbox entries, in that same statement: see
 * `NOTIFY_ON_TERMINAL_CTES`), and the notifier's guarded delivery updates.
 */
import type { Sql } from './client.js';
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
export type DeliveryToSend = NotificationDeliveryRow & Pick<JobNotificationRow, 'channel' | 'target'>;

const DELIVERY_COLUMNS = `d.id, d.notification_id::int8 as "notificationId", d.job_id as "jobId", d.series,
  d.job_state as "jobState", d.status, d.attempts, d.last_error as "lastError", d.body, d.created_at as "createdAt",
  d.updated_at as "updatedAt", d.finished_at as "finishedAt"`;

/**
 * CTEs appended to a terminal transition (`db/jobs.ts`), after its `j` CTE (the updated job): for each of the
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
       returning id, notification_id, job_id
     ), notify_o as (
       insert into outbox (job_id, subject, msg_id, body, traceparent)
       select d.job_id, n.subject, d.id::text, jsonb_build_object('deliveryId', d.id, 'channel', n.channel, 'target', n.target), j.traceparent
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

/** Starts a send attempt of a PENDING delivery (attempts + 1); null when it is already SENT/FAILED or unknown. */
export async function beginDeliveryAttempt(sql: Sql, id: string): Promise<DeliveryToSend | null> {
  const [row] = await sql.unsafe<DeliveryToSend[]>(
    `with d as (
       update notification_deliveries set attempts = attempts + 1, updated_at = now()
       where id = $1 and status = 'PENDING' returning *
     )
     select ${DELIVERY_COLUMNS}, n.channel, n.target from d join job_notifications n on n.id = d.notification_id`,
    [id],
  );
  return row ?? null;
}

/** A failed attempt with attempts left: keeps its error. */
export async function recordDeliveryError(sql: Sql, a: { id: string; error: string }): Promise<void> {
  await sql.unsafe(
    `update notification_deliveries set last_error = $2, updated_at = now() where id = $1 and status = 'PENDING'`,
    [a.id, a.error],
  );
}

/** PENDING → SENT (the receiver accepted it) or FAILED (dead-lettered, with its last error). */
export async function finishDelivery(
  sql: Sql,
  a: { id: string; status: 'SENT' | 'FAILED'; error?: string | null },
): Promise<boolean> {
  const rows = await sql.unsafe(
    `update notification_deliveries set status = $2, last_error = coalesce($3, last_error), updated_at = now(),
       finished_at = now()
     where id = $1 and status = 'PENDING' returning id`,
    [a.id, a.status, a.error ?? null],
  );
  return rows.length > 0;
}
