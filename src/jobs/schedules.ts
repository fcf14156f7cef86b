/**
 * Recurring jobs. `upsertSchedule` stores a named schedule (a job type, its payload and settings, a cron
 * expression in a time zone); the scheduler, in every API process, makes each due schedule's job in one
 * transaction with moving the schedule to its next time (`lockDueSchedules` skips rows another process has
 * locked), so each run makes one job, and a run missed while no API process ran (or several) makes one job
 * when one runs again. The job is any submitted job (its message through the outbox, so a crash after the
 * commit loses nothing), with idempotency key `schedule:<name>:<run time>`, which tells where it came from.
 * A schedule with a start window (`startWithinMs`) gives each job `startBy` = its run time + the window: a run
 * made past it (the API processes were down) makes a job that expires at once rather than running late.
 */
import { preparing, type Sql } from '../db/client.js';
import { getJob, insertJobs, type NewJob } from '../db/jobs.js';
import type { JobRow } from '../db/schema.js';
import { insertNotifications, type NewNotification } from '../db/notifications.js';
import type { NotifyInput } from '../notifications/validate.js';
import {
  deleteSchedule as deleteRow,
  getSchedule,
  listSchedules,
  lockDueSchedules,
  lockSchedule,
  markSchedulesRun,
  msUntilNextRun,
  setSchedulePaused as setPausedRow,
  upsertSchedule as upsertRow,
  type ScheduleRow,
  type ScheduleRun,
} from '../db/schedules.js';
import { ErrorCode, PublicError, UserErrorCode, type UserError } from '../errors.js';
import { faultPoint } from '../faults.js';
import { jobsSubmitted, scheduleRuns, scheduleRunsSkipped } from '../observability/metrics.js';
import { updateFromJob } from '../progress/updates.js';
import { orAfter } from '../deadline.js';
import { cronTimes } from './cron.js';
import { inRange, maxAttemptsOf, timeoutProblem } from './definition.js';
import type { JobDeps, Viewer } from './deps.js';
import { newJobId } from './job-id.js';
import { isStorableText } from './payload-check.js';
import { characters, countPayloads, validateSubmit, type PayloadBudget } from './submit-check.js';

/** The most schedules one owner may have. */
export const MAX_SCHEDULES_PER_OWNER = 100;
/** The longest schedule name, in characters. */
export const MAX_SCHEDULE_NAME_LENGTH = 200;
/**
 * `startWithinMs`, in ms: at least a second, at most the largest GraphQL `Int` (the `start_within_ms` column is
 * an int4 too), about 24.8 days.
 */
export const START_WITHIN_RANGE = { min: 1000, max: 2_147_483_647 } as const;
/** Due schedules one transaction of the scheduler takes. */
const RUN_BATCH = 100;

/** `upsertSchedule` input (schema: ScheduleInput). */
export interface ScheduleInput {
  name: string;
  type: string;
  payload?: unknown;
  cron: string;
  timezone?: string | null;
  maxAttempts?: number | null;
  timeoutMs?: number | null;
  /** Each run's job must start within this long of its run time (its `startBy`), or expire; null: no deadline. */
  startWithinMs?: number | null;
  /** Notifications each run's job gets (as a submit's `notify`). */
  notify?: readonly NotifyInput[] | null;
  paused?: boolean | null;
}

type UpsertResult = { schedule: ScheduleRow | null; created: boolean; userErrors: UserError[] };

const refused = (userErrors: UserError[]): UpsertResult => ({ schedule: null, created: false, userErrors });

/**
 * Creates or replaces the viewer's schedule `name`: its job checked as a submit of it would be (type,
 * payload, maxAttempts, timeoutMs; errors on `["input", …]`), its cron and time zone read, its startWithinMs
 * in START_WITHIN_RANGE; nothing written when anything is refused. Its next run is the first time the cron
 * names after now (a replaced schedule starts over from now, keeping its run count and last run).
 */
export async function upsertSchedule(deps: JobDeps, viewer: Viewer, input: ScheduleInput, budget: PayloadBudget): Promise<UpsertResult> {
  const errors: UserError[] = [];
  const name = input.name;
  if (name.length === 0 || characters(name, MAX_SCHEDULE_NAME_LENGTH) > MAX_SCHEDULE_NAME_LENGTH || !isStorableText(name)) {
    errors.push({ code: UserErrorCode.OUT_OF_RANGE, field: ['input', 'name'], message: `name must be 1..${MAX_SCHEDULE_NAME_LENGTH} characters, none of them NUL or an unpaired surrogate` });
  }
  const timezone = input.timezone ?? 'UTC';
  const times = cronTimes(input.cron, timezone);
  if ('error' in times) errors.push({ code: UserErrorCode.INVALID_SCHEDULE, field: ['input', times.field], message: times.error });
  const startWithinMs = input.startWithinMs ?? null;
  if (startWithinMs !== null && !inRange(startWithinMs, START_WITHIN_RANGE)) {
    errors.push({ code: UserErrorCode.OUT_OF_RANGE, field: ['input', 'startWithinMs'], message: `startWithinMs must be between ${START_WITHIN_RANGE.min} and ${START_WITHIN_RANGE.max}` });
  }
  const job = { type: input.type, payload: input.payload ?? {}, maxAttempts: input.maxAttempts, timeoutMs: input.timeoutMs, notify: input.notify };
  const counted = countPayloads(budget, [job], () => ['input'], ['input', 'payload']);
  if ('errors' in counted) return refused([...errors, ...counted.errors]);
  const checked = await validateSubmit(deps, viewer, job, ['input'], counted.bytes[0]!);
  if ('errors' in checked) errors.push(...checked.errors);
  if (errors.length || 'error' in times || 'errors' in checked) return refused(errors);
  const written = await upsertRow(
    deps.sql,
    {
      owner: viewer.owner,
      name,
      type: job.type,
      payload: job.payload,
      cron: input.cron.trim(),
      timezone,
      maxAttempts: input.maxAttempts ?? null,
      timeoutMs: input.timeoutMs ?? null,
      startWithinMs,
      notify: checked.notifications,
      paused: input.paused ?? false,
      nextRunAt: times.after(new Date()),
    },
    MAX_SCHEDULES_PER_OWNER,
  );
  if (!written) {
    return refused([{ code: UserErrorCode.OUT_OF_RANGE, field: ['input', 'name'], message: `at most ${MAX_SCHEDULES_PER_OWNER} schedules per owner; delete one first` }]);
  }
  budget.left -= counted.total;
  deps.log.info({ owner: viewer.owner, schedule: name, type: job.type, cron: written.row.cron, created: written.created }, written.created ? 'schedule created' : 'schedule replaced');
  return { schedule: written.row, created: written.created, userErrors: [] };
}

/** Deletes the viewer's schedule `name` (its jobs made so far are left as they are); UNKNOWN_SCHEDULE if none. */
export async function deleteSchedule(deps: JobDeps, viewer: Viewer, name: string, owner?: string | null): Promise<{ schedule: ScheduleRow | null; userErrors: UserError[] }> {
  const whose = ownerOf(viewer, owner);
  const row = await deleteRow(deps.sql, whose, name);
  if (!row) return { schedule: null, userErrors: unknownSchedule(name) };
  deps.log.info({ owner: whose, schedule: name, by: viewer.owner }, 'schedule deleted');
  return { schedule: row, userErrors: [] };
}

/**
 * Whose schedules a call acts on: `owner`, or the viewer's own when it is absent. Another owner's need an admin
 * key (FORBIDDEN): an operator pausing a schedule that floods a downstream, or looking at every owner's.
 */
function ownerOf(viewer: Viewer, owner: string | null | undefined): string {
  const whose = owner ?? viewer.owner;
  if (whose !== viewer.owner && !viewer.admin) throw new PublicError(ErrorCode.FORBIDDEN, "another owner's schedules need an admin key");
  return whose;
}

const unknownSchedule = (name: string): UserError[] => [
  { code: UserErrorCode.UNKNOWN_SCHEDULE, field: ['name'], message: `you have no schedule ${JSON.stringify(name.slice(0, 200))}` },
];

/**
 * `pauseSchedule` / `resumeSchedule`: the viewer's schedule `name` makes no job while paused; resumed, its next
 * run is the first time its cron names after now (what it missed meanwhile is skipped). Pausing a paused one,
 * or resuming a running one, changes nothing.
 */
export async function setSchedulePaused(
  deps: JobDeps,
  viewer: Viewer,
  name: string,
  paused: boolean,
  owner?: string | null,
): Promise<{ schedule: ScheduleRow | null; userErrors: UserError[] }> {
  const whose = ownerOf(viewer, owner);
  const now = new Date();
  const row = await setPausedRow(deps.sql, whose, name, paused, (r) => nextRunOf(r, now).at);
  if (!row) return { schedule: null, userErrors: unknownSchedule(name) };
  deps.log.info({ owner: whose, schedule: name, by: viewer.owner }, paused ? 'schedule paused' : 'schedule resumed');
  return { schedule: row, userErrors: [] };
}

/** `schedules`: the viewer's, by name. */
export const schedules = (deps: JobDeps, viewer: Viewer, owner?: string | null): Promise<ScheduleRow[]> => listSchedules(deps.sql, ownerOf(viewer, owner));

/**
 * A schedule's next run after `instant`, or, should its cron be refused now (read when it was written: only if
 * cron-parser changed its mind since), an hour on, with why (`refused`): its runs make no job until then.
 */
function nextRunOf(s: Pick<ScheduleRow, 'cron' | 'timezone'>, instant: Date): { at: Date; refused?: string } {
  const times = cronTimes(s.cron, s.timezone);
  return 'error' in times ? { at: new Date(instant.getTime() + 3_600_000), refused: times.error } : { at: times.after(instant) };
}

/** The idempotency key of a schedule's job for one run. */
export const scheduleJobKey = (name: string, ranAt: Date): string => `schedule:${name}:${ranAt.toISOString()}`;

export type SchedulerDeps = Pick<JobDeps, 'sql' | 'nats' | 'names' | 'log' | 'types' | 'relay'>;

/** A run to make: the schedule (locked), its run time (the job's key), and where the schedule goes next. */
interface RunToMake {
  schedule: ScheduleRow;
  ranAt: Date;
  nextRunAt: Date;
}

type MadeRun = ScheduleRun & { key: string | null; type: string };

/**
 * Inside the transaction that locked the schedules: each run's job and outbox entry (as a submit writes them,
 * its notifications too), then the schedules moved on (`markSchedulesRun`). A schedule whose type this server
 * has not (or whose cron is refused now: `skip`) makes no job; its run is recorded all the same.
 */
async function makeRuns(tx: Sql, d: SchedulerDeps, toMake: readonly (RunToMake & { skip?: string })[]) {
  const jobs: NewJob[] = [];
  const runs: MadeRun[] = [];
  for (const { schedule: s, ranAt, nextRunAt, skip } of toMake) {
    const type = d.types.get(s.type);
    if (skip || !type) {
      d.log.warn({ owner: s.owner, schedule: s.name, type: s.type, error: skip }, type ? 'schedule: its cron is refused now; no job made' : 'schedule: this server has no such job type; no job made');
      runs.push({ owner: s.owner, name: s.name, ranAt, jobId: null, nextRunAt, key: null, type: s.type });
      continue;
    }
    const key = scheduleJobKey(s.name, ranAt);
    const id = newJobId();
    jobs.push({
      id,
      owner: s.owner,
      type: type.name,
      payload: s.payload,
      // As written, within what the type allows now (it may have changed since).
      maxAttempts: Math.min(s.maxAttempts ?? type.maxAttempts, maxAttemptsOf(type)),
      timeoutMs: s.timeoutMs !== null && !timeoutProblem(type, s.timeoutMs) ? s.timeoutMs : type.timeoutMs,
      idempotencyKey: key,
      traceparent: null,
      subject: d.names.jobSubject(type.name),
      runAt: null,
      // Due at its run time, not when this pass got to it: a run made past its window expires at once.
      startBy: s.startWithinMs === null ? null : new Date(ranAt.getTime() + s.startWithinMs),
    });
    runs.push({ owner: s.owner, name: s.name, ranAt, jobId: id, nextRunAt, key, type: type.name });
  }
  const result = jobs.length ? await insertJobs(tx, jobs, 1) : { inserted: [], existing: [] };
  if ('unanswered' in result && result.unanswered !== undefined) throw result.unanswered;
  // A key taken already (the schedule deleted and made again, the same run): that job is this run's.
  const byKey = new Map(result.existing.map((j) => [`${j.owner}\n${j.idempotencyKey}`, j.id]));
  for (const r of runs) if (r.key !== null && byKey.has(`${r.owner}\n${r.key}`)) r.jobId = byKey.get(`${r.owner}\n${r.key}`)!;
  // Each new job's notifications, in its transaction as a submit's are.
  const notifyOf = new Map(toMake.map(({ schedule: s }) => [`${s.owner}\n${s.name}`, s.notify]));
  const made = new Set(result.inserted.map((r) => r.job.id));
  const notifications: NewNotification[] = runs.flatMap((r) =>
    r.jobId && made.has(r.jobId) ? notifyOf.get(`${r.owner}\n${r.name}`)!.map((n) => ({ ...n, jobId: r.jobId!, subject: d.names.notificationSubject })) : [],
  );
  await insertNotifications(tx, notifications);
  await markSchedulesRun(tx, runs);
  return { inserted: result.inserted, runs };
}

/** After the commit of `makeRuns`: counted, published (the relay publishes what this process does not), logged. */
function afterRuns(d: SchedulerDeps, made: Awaited<ReturnType<typeof makeRuns>>): void {
  // A run whose key was taken already has that job (see makeRuns), as its schedule's `runs` counts it.
  for (const r of made.runs) (r.jobId ? scheduleRuns : scheduleRunsSkipped).inc({ type: r.type });
  if (!made.inserted.length) return;
  faultPoint('schedule-after-commit');
  d.relay.publishSoon(
    made.inserted.map((r) => r.outbox),
    made.inserted.map((r) => updateFromJob(r.job)),
  );
  const scheduleOf = new Map(made.runs.map((r) => [r.jobId, r.name]));
  for (const { job } of made.inserted) {
    jobsSubmitted.inc({ type: job.type });
    d.log.info({ jobId: job.id, type: job.type, owner: job.owner, schedule: scheduleOf.get(job.id) }, 'scheduled job made');
  }
}

/**
 * One transaction: takes up to RUN_BATCH due schedules, makes their jobs and moves each to its next time after
 * now (by PostgreSQL's clock); then publishes the jobs. Answers how many schedules it moved on.
 */
export async function runDueSchedules(d: SchedulerDeps): Promise<number> {
  const made = await d.sql.begin(async (raw) => {
    const tx = preparing(raw) as unknown as Sql;
    const due = await lockDueSchedules(tx, RUN_BATCH);
    return makeRuns(
      tx,
      d,
      due.map((s) => {
        const next = nextRunOf(s, s.now);
        return { schedule: s, ranAt: s.nextRunAt, nextRunAt: next.at, skip: next.refused };
      }),
    );
  });
  afterRuns(d, made);
  return made.runs.length;
}

/**
 * `runSchedule`: the viewer's schedule `name` makes its job now (run time: PostgreSQL's now), paused or not,
 * and keeps its next run. UNKNOWN_SCHEDULE if there is none; UNKNOWN_JOB_TYPE if this server has not its type.
 */
export async function runScheduleNow(
  deps: JobDeps,
  viewer: Viewer,
  name: string,
  owner?: string | null,
): Promise<{ job: JobRow | null; schedule: ScheduleRow | null; userErrors: UserError[] }> {
  const whose = ownerOf(viewer, owner);
  type Outcome = { userErrors: UserError[] } | { made: Awaited<ReturnType<typeof makeRuns>> };
  const made = await deps.sql.begin(async (raw): Promise<Outcome> => {
    const tx = preparing(raw) as unknown as Sql;
    const s = await lockSchedule(tx, whose, name);
    if (!s) return { userErrors: unknownSchedule(name) };
    if (!deps.types.has(s.type)) {
      return { userErrors: [{ code: UserErrorCode.UNKNOWN_JOB_TYPE, field: ['name'], message: `this server has no job type ${JSON.stringify(s.type)}, the schedule's` }] };
    }
    return { made: await makeRuns(tx, deps, [{ schedule: s, ranAt: s.now, nextRunAt: s.nextRunAt }]) };
  });
  if ('userErrors' in made) return { job: null, schedule: null, userErrors: made.userErrors };
  afterRuns(deps, made.made);
  const jobId = made.made.runs[0]!.jobId!;
  const [job, schedule] = await Promise.all([getJob(deps.sql, jobId), getSchedule(deps.sql, whose, name)]);
  deps.log.info({ owner: whose, schedule: name, jobId, by: viewer.owner }, 'schedule run now');
  return { job, schedule, userErrors: [] };
}

export interface Scheduler {
  stop(): Promise<void>;
}

/** How long a stop waits for the pass under way (a silent PostgreSQL): the next process's pass does its work. */
const STOP_WAIT_MS = 2000;

/**
 * Runs the due schedules, a batch at a time until none is due, then sleeps until the earliest schedule is due
 * (by PostgreSQL's clock), but at most `intervalMs`: a run's job is made within a few ms of its time, and a
 * schedule another process made or changed is seen within `intervalMs`. A pass that fails is tried again
 * `intervalMs` later.
 */
export function startScheduler(d: SchedulerDeps, o: { intervalMs: number }): Scheduler {
  let stopped = false;
  let wake: (() => void) | null = null;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  // Passes in a row that left a schedule due without taking one: another process holds it (its pass under
  // way, or its connection stuck in the transaction), or it came due just after the pass. Looked at again
  // 10 ms later, then twice as long each time up to `intervalMs`, rather than spun on.
  let dueUntaken = 0;
  const loop = (async () => {
    await sleep(o.intervalMs);
    while (!stopped) {
      let next = o.intervalMs;
      try {
        let took = 0;
        for (let n = RUN_BATCH; !stopped && n === RUN_BATCH; took += n) n = await runDueSchedules(d);
        const due = await msUntilNextRun(d.sql);
        dueUntaken = due !== null && due <= 0 && took === 0 ? dueUntaken + 1 : 0;
        if (due !== null) next = Math.min(o.intervalMs, due > 0 ? Math.ceil(due) : 10 * 2 ** dueUntaken);
      } catch (e) {
        d.log.warn({ err: e }, 'scheduler: pass failed; trying again at the next one');
      }
      if (!stopped) await sleep(next);
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await orAfter(loop, STOP_WAIT_MS, undefined);
    },
  };
}
