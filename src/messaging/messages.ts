/**
 * The messages longrun sends over NATS, and a parser for each: every inbound message is validated before use.
 */
import { z } from 'zod';
import { JOB_STATES, type JobState } from '../jobs/state.js';

/** The largest PostgreSQL `integer` (int4): the column a message's `series` is compared with. */
const MAX_INT4 = 2_147_483_647;

/**
 * Body of a work-queue message. The job itself (payload, attempts) is read from PostgreSQL. A `series` past
 * int4 is malformed: in the claim statement it would fail the whole batch (a data exception).
 */
export const jobMessageSchema = z.object({ id: z.uuid(), type: z.string().min(1), series: z.number().int().min(1).max(MAX_INT4) });
export type JobMessage = z.infer<typeof jobMessageSchema>;

/**
 * The job a work-queue message names, in lower case (a uuid's case means nothing); undefined: not a job
 * message. What tells a job's message from another job's at the sequence it had, in a stream deleted and made
 * again (its sequences start from 1): the reconciler's check and the dead-letter sweep's.
 */
export const jobIdIn = (data: Uint8Array): string | undefined => parseMessage(jobMessageSchema, data)?.id.toLowerCase();

/**
 * The smallest NATS message size limit (`max_payload`) longrun runs with: a job update carries the result
 * (at most MAX_RESULT_BYTES as JSON) and texts of at most MAX_TEXT_LENGTH characters (jobs/payload-check.ts),
 * so the largest is well under 512 KiB. Below this, large updates could not be published and their watchers
 * would wait.
 */
export const MIN_MAX_PAYLOAD = 512 * 1024;

/** A change to a job, published on its update subject and relayed to GraphQL subscribers. */
export const jobUpdateSchema = z.object({
  jobId: z.string(),
  type: z.string(),
  /** The job's owner, so subscribers to many jobs can keep to the viewer's (absent from older publishers). */
  owner: z.string().optional(),
  seq: z.number().int(),
  state: z.enum(JOB_STATES),
  progress: z.number(),
  message: z.string().nullable(),
  attempt: z.number().int(),
  at: z.string(),
  result: z.unknown().optional(),
  error: z.string().nullable().optional(),
});
export type JobUpdateMessage = z.infer<typeof jobUpdateSchema> & { state: JobState };

/**
 * Many jobs' first updates (their submission: seq 1, QUEUED) in one message, when they say the same but for
 * the job id (a `submitJobs` batch's, the submits of one group commit): `update` without its `jobId`, and the
 * ids it is the update of. See updates.ts `publishUpdates`.
 */
export const jobsSubmittedSchema = z.object({
  update: jobUpdateSchema.omit({ jobId: true }),
  jobIds: z.array(z.string()).min(1),
});

/**
 * Body of the question on a job's held subject (names.ts `heldSubject`, held.ts): which attempt it
 * asks about. Only the worker holding that very attempt answers.
 */
export const heldAttemptBody = (job: { series: number; attempts: number }): string => `${job.series}.${job.attempts}`;

/** JetStream's MAX_DELIVERIES / MSG_TERMINATED advisory (fields present on nats-server 2.9.10). */
export const advisorySchema = z.object({
  type: z.enum(['io.nats.jetstream.advisory.v1.max_deliver', 'io.nats.jetstream.advisory.v1.terminated']),
  stream: z.string(),
  consumer: z.string(),
  stream_seq: z.number().int(),
  deliveries: z.number().int(),
  /** When the server raised it (its clock). */
  timestamp: z.string().optional(),
});
export type Advisory = z.infer<typeof advisorySchema>;

/** One decoder for every message: `decode` without `stream` keeps nothing between calls. */
const utf8 = new TextDecoder();

/** Parses JSON bytes with a schema; returns null (never throws) for anything malformed. */
export function parseMessage<T>(schema: z.ZodType<T>, data: Uint8Array): T | null {
  try {
    const r = schema.safeParse(JSON.parse(utf8.decode(data)));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/**
 * A message body as JSON bytes. `Buffer.from` copies a short string into Node's shared allocation pool; a
 * `TextEncoder` made a new ArrayBuffer (and an encoder) per message: about twice the time, and the garbage,
 * for each job's message and updates. Nothing writes to the bytes: nats.js holds them until its next flush.
 */
export const encode = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));

/**
 * Body of a notifications-stream message: the delivery to send (the rest is read from PostgreSQL), its
 * channel and target, so the notifier can share its slots out by receiver before it reads anything, and its
 * number among the delivery's messages (0, the first, when absent: published before the field existed).
 */
export const notificationMessageSchema = z.object({
  deliveryId: z.uuid(),
  channel: z.enum(['WEBHOOK', 'EMAIL']).optional(),
  target: z.string().optional(),
  requeue: z.number().int().min(0).default(0),
});
export type NotificationMessage = z.infer<typeof notificationMessageSchema>;
