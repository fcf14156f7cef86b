/**
 * The CLI's commands; each returns the exit code (see main.ts). Their arguments and required options are
 * checked before they run (`cli/syntax.ts`): `positionals[0]` is there when the command takes an argument.
 */
import { LongrunError, type JobFieldsFragment, type JobPageFragment, type JobState, type JobUpdate, type LongrunClient } from '../sdk/index.js';
import { displayWidth, fitWidth } from './display-width.js';
import { cancelMatching, purgeMatching, retryMatching } from './bulk.js';
import { oneLine, refused, table, updatePrinter, type Output } from './output.js';
import type { CommandName } from './syntax.js';
import { UsageError, wholeNumber } from './usage-error.js';
import { isTerminal } from '../src/jobs/state.js';
import { rateLimitText } from '../src/jobs/rate-limit-text.js';

export interface CommandArgs {
  json: boolean;
  payload: unknown;
  maxAttempts: number | undefined;
  timeoutMs: number | undefined;
  idempotencyKey: string | undefined;
  watch: boolean;
  after: string | undefined;
  /** `jobs --id`. */
  ids: string[] | undefined;
  states: JobState[] | undefined;
  types: string[] | undefined;
  first: number | undefined;
  /** `--older-than`, in seconds. */
  olderThanSeconds: number | undefined;
  dryRun: boolean;
  /** `--failed-after`, `--failed-before`: ISO date-times. */
  failedAfter: string | undefined;
  failedBefore: string | undefined;
  deadLettered: boolean;
  all: boolean;
  /** `submit`/`reschedule` `--run-at`, or `--delay` from now: the ISO instant the job does not start before. */
  runAt: string | undefined;
  /** `submit --start-by` (an ISO instant, or a duration from now): the job expires unless started by then. */
  startBy: string | undefined;
  /** `schedule --start-within`, in ms: each run's job expires unless started that long after its run time. */
  startWithinMs: number | undefined;
  /** `reschedule --now`. */
  now: boolean;
  /** `schedule --cron`, `--timezone`, `--paused`. */
  cron: string | undefined;
  timezone: string | undefined;
  paused: boolean;
  /** `schedules`, `unschedule`, `pause-schedule`, `resume-schedule --owner`: another owner's (admin key). */
  owner: string | undefined;
  /** `rate-limit --burst`, `--clear`. */
  burst: number | undefined;
  clear: boolean;
}

type Command = (client: LongrunClient, positionals: string[], a: CommandArgs, o: Output) => Promise<number>;

/** Exit code of a finished job. */
const exitFor = (state: JobState) => (state === 'SUCCEEDED' ? 0 : state === 'FAILED' || state === 'CANCELLED' ? 1 : 0);

/** `text` as one line of at most `columns` columns, ending in `…` when cut. */
const cut = (text: string, columns: number) => (displayWidth(oneLine(text)) > columns ? `${fitWidth(oneLine(text), columns - 1)}…` : text);

const jobLine = (j: Pick<JobFieldsFragment, 'id' | 'type' | 'state'>) => `${j.id} ${j.type} ${j.state}`;

/** A type's rate limit in force (`5/1000ms`, marked ` (override)` while an admin's override holds); `-` for none. */
const limitText = (l: Parameters<typeof rateLimitText>[0]) => rateLimitText(l, '-');

/** `rate-limit`'s MAX/PERMS (`5/1000`: 5 starts per 1000 ms) as the mutation takes it. */
function rateLimitInput(text: string, burst: number | undefined) {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`rate-limit takes MAX/PERMS in whole numbers, e.g. 5/1000 (5 starts per 1000 ms), not ${JSON.stringify(text)}`);
  return { max: Number(m[1]), perMs: Number(m[2]), burst: burst ?? null };
}

/**
 * Prints the job's updates until it finishes, then its result or error. With `json`, each update is one JSON
 * object per line (its result or error in the last one); when none comes, the job itself is the line.
 */
async function watch(client: LongrunClient, id: string, after: number | undefined, o: Output, json: boolean): Promise<number> {
  const printer = json ? { update: (u: JobUpdate) => o.out(JSON.stringify(u)), done: () => {} } : updatePrinter(o);
  let last: { state: JobState; result: unknown; error: string | null } | null = null;
  try {
    for await (const u of client.watchJob(id, after === undefined ? {} : { after })) {
      printer.update(u);
      last = u;
    }
  } finally {
    printer.done(); // also before an error: on a terminal it ends the bar's line, so the error gets its own
  }
  if (!last || !isTerminal(last.state)) {
    // The watch ended before an end came: resumed at or after the job's last update (nothing came), so where it
    // ended is read from the job; or the job was deleted (purged, or past its retention) since the watch was
    // accepted, its end unseen (NATS down meanwhile), and the server ended the watch for that.
    const job = await client.job(id);
    if (!job) throw new LongrunError('job not found (deleted while it was watched)', 'NOT_FOUND');
    if (last && !isTerminal(job.state)) throw new LongrunError(`the watch ended before the job did (it is ${job.state}): watch it again`, 'NETWORK');
    if (json) o.out(JSON.stringify(job));
    last = job;
  }
  if (json) return exitFor(last.state);
  if (last.state === 'SUCCEEDED') o.out(`result ${JSON.stringify(last.result)}`);
  else if (last.error) o.out(`error ${oneLine(last.error)}`);
  else if (last.state === 'CANCELLED') o.out('cancelled'); // no error of its own: it was asked to stop
  return exitFor(last.state);
}

/**
 * `jobs` / `dead-letters` `--after CURSOR`. An empty one (`--after "$NEXT"` with NEXT unset) is bad usage: the
 * server reads it as no cursor, so it would print the first page again as if it were the next.
 */
function pageAfter(after: string | undefined): string | null {
  if (after === undefined) return null;
  if (!after.trim()) throw new UsageError('--after is empty: give the cursor a page ended with (next page: --after …), or leave --after out for the first page');
  return after;
}

/**
 * Prints a page of jobs (`jobs`, `dead-letters`), a row each, then on stderr how many of how many there are
 * and the `--after` of the next page.
 */
function printPage(page: JobPageFragment, a: CommandArgs, o: Output, header: string[], row: (j: JobFieldsFragment) => string[]): number {
  if (a.json) {
    o.out(JSON.stringify(page));
    return 0;
  }
  table(o, header, page.edges.map(({ node }) => row(node)));
  // With --first 0 there are no edges, hence no cursor to go on from: the count alone.
  const next = page.pageInfo.hasNextPage && page.pageInfo.endCursor;
  o.err(`${page.edges.length} of ${page.totalCount}${next ? `; next page: --after ${next}` : ''}`);
  return 0;
}

/** One per command of the syntax table. */
export const commands: Record<CommandName, Command> = {
  async submit(client, positionals, a, o) {
    const type = positionals[0]!;
    const { job, userErrors } = await client.submitJob({
      type,
      payload: a.payload,
      maxAttempts: a.maxAttempts ?? null,
      timeoutMs: a.timeoutMs ?? null,
      idempotencyKey: a.idempotencyKey ?? null,
      runAt: a.runAt ?? null,
      startBy: a.startBy ?? null,
    });
    if (!job) return refused(o, userErrors);
    // A scheduled job says when it runs, as `reschedule` does (none for a runAt not in the future: it runs at once).
    o.out(a.json ? JSON.stringify(job) : `submitted ${jobLine(job)}${job.runAt ? ` run at ${job.runAt}` : ''}`);
    // From seq 0: every recorded change since the submit, so nothing is missed while the watch connects.
    return a.watch ? watch(client, job.id, 0, o, a.json) : 0;
  },

  async watch(client, positionals, a, o) {
    const after = a.after === undefined ? undefined : wholeNumber('after', a.after, 'a seq number');
    return watch(client, positionals[0]!, after, o, a.json);
  },

  async show(client, positionals, a, o) {
    const job = await client.job(positionals[0]!);
    if (!job) throw new LongrunError('job not found', 'NOT_FOUND');
    if (a.json) {
      o.out(JSON.stringify(job));
      return 0;
    }
    const { events, ...j } = job;
    const fields: [string, string | null][] = [
      ['id', j.id],
      ['type', j.type],
      ['state', j.state],
      ['progress', `${Math.round(j.progress)}%${j.progressMessage ? ` ${j.progressMessage}` : ''}`],
      ['attempts', `${j.attempts}/${j.maxAttempts}`],
      ['created', j.createdAt],
      ['run at', j.runAt],
      ['start by', j.startBy ?? null],
      ['started', j.startedAt],
      ['finished', j.finishedAt],
      ['next attempt', j.nextAttemptAt],
      ['error', j.error],
      ['result', j.state === 'SUCCEEDED' ? JSON.stringify(j.result) : null],
      ['payload', JSON.stringify(j.payload)],
    ];
    table(o, ['FIELD', 'VALUE'], fields.flatMap(([k, v]) => (v === null ? [] : [[k, v]])));
    o.out('');
    table(
      o,
      ['SEQ', 'AT', 'STATE', 'PROGRESS', 'ATTEMPT', 'MESSAGE'],
      events.map((e) => [String(e.seq), e.at, e.state, `${Math.round(e.progress)}%`, String(e.attempt), e.message ?? '']),
    );
    // The job query answers the first 500 rows of the history; the rest is a jobEvents page away.
    if (events.length === 500) o.err(`the first 500 rows of the history; the rest: --json with the API's jobEvents(after: ${events.at(-1)!.seq})`);
    return 0;
  },

  async jobs(client, _positionals, a, o) {
    const page = await client.jobs({
      filter: { ids: a.ids ?? null, states: a.states ?? null, types: a.types ?? null },
      first: a.first ?? 20,
      after: pageAfter(a.after),
    });
    return printPage(page, a, o, ['ID', 'TYPE', 'STATE', 'PROGRESS', 'ATTEMPTS', 'CREATED'], (j) => [
      j.id,
      j.type,
      j.state,
      `${Math.round(j.progress)}%`,
      `${j.attempts}/${j.maxAttempts}`,
      j.createdAt,
    ]);
  },

  async 'dead-letters'(client, _positionals, a, o) {
    if ((a.types?.length ?? 0) > 1) throw new UsageError('dead-letters takes one --type at most');
    const page = await client.deadLetters({ type: a.types?.[0] ?? null, first: a.first ?? 20, after: pageAfter(a.after) });
    return printPage(page, a, o, ['ID', 'TYPE', 'ATTEMPTS', 'FAILED', 'ERROR'], (j) => [
      j.id,
      j.type,
      `${j.attempts}/${j.maxAttempts}`,
      j.finishedAt ?? '',
      // On a terminal a long error would make every row as wide: `show <id>` prints it whole.
      o.tty ? cut(j.error ?? '', 100) : (j.error ?? ''),
    ]);
  },

  async cancel(client, positionals, a, o) {
    const given = [a.types && '--type', a.states && '--state', a.all && '--all'].filter((f): f is string => typeof f === 'string');
    const id = positionals[0];
    if (id === undefined) {
      if (!given.length) throw new UsageError('cancel needs <id>, or which jobs: --type, --state, or --all');
      return cancelMatching(client, a, o);
    }
    if (given.length) throw new UsageError(`cancel <id> cancels that job alone: ${given.join(', ')} does not apply`);
    const { job, userErrors } = await client.cancelJob(id);
    if (userErrors.length) return refused(o, userErrors);
    // A running job is cancelled once its worker has stopped the handler: for now it is only asked to.
    o.out(a.json ? JSON.stringify(job) : `${job!.state === 'CANCELLED' ? 'cancelled' : 'cancel requested'} ${jobLine(job!)}`);
    return 0;
  },

  async reschedule(client, positionals, a, o) {
    if (a.runAt === undefined && !a.now) throw new UsageError('reschedule needs when: --run-at ISO, --delay DURATION or --now');
    const { job, userErrors } = await client.rescheduleJob(positionals[0]!, { runAt: a.runAt ?? null });
    if (userErrors.length) return refused(o, userErrors);
    const when = job!.state === 'RETRYING' ? `next attempt at ${job!.nextAttemptAt}` : job!.runAt ? `run at ${job!.runAt}` : 'now';
    o.out(a.json ? JSON.stringify(job) : `rescheduled ${jobLine(job!)} ${when}`);
    return 0;
  },

  async retry(client, positionals, a, o) {
    const filter = [a.types && '--type', a.failedAfter && '--failed-after', a.failedBefore && '--failed-before', a.deadLettered && '--dead-lettered', a.all && '--all'];
    const given = filter.filter((f): f is string => typeof f === 'string');
    const options = a.timeoutMs === undefined ? {} : { timeoutMs: a.timeoutMs };
    const id = positionals[0];
    if (id !== undefined) {
      if (given.length) throw new UsageError(`retry <id> replays that job alone: ${given.join(', ')} does not apply`);
      const { job, userErrors } = await client.retryJob(id, options);
      if (userErrors.length) return refused(o, userErrors);
      o.out(a.json ? JSON.stringify(job) : `retried ${jobLine(job!)}`);
      return 0;
    }
    if (!given.length) throw new UsageError('retry needs <id>, or which FAILED jobs: --type, --failed-after, --failed-before, --dead-lettered, or --all');
    return retryMatching(client, a, options, o);
  },

  async purge(client, _positionals, a, o) {
    return purgeMatching(client, a, o);
  },

  async pause(client, positionals, a, o) {
    const { jobType, userErrors } = await client.pauseJobType(positionals[0]!);
    if (userErrors.length) return refused(o, userErrors);
    o.out(a.json ? JSON.stringify(jobType) : `paused ${jobType!.name} since ${jobType!.pausedAt}`);
    return 0;
  },

  async resume(client, positionals, a, o) {
    const { jobType, userErrors } = await client.resumeJobType(positionals[0]!);
    if (userErrors.length) return refused(o, userErrors);
    // jobType is null for a type the server no longer has (a pause left on when it was removed).
    o.out(a.json ? JSON.stringify(jobType) : `resumed ${jobType?.name ?? positionals[0]!}`);
    return 0;
  },

  async 'rate-limit'(client, positionals, a, o) {
    const [type, limit] = positionals as [string, string | undefined];
    if (a.clear === (limit !== undefined)) throw new UsageError('rate-limit needs MAX/PERMS (e.g. 5/1000) or --clear, one of them');
    if (a.clear && a.burst !== undefined) throw new UsageError('--burst does not apply with --clear');
    const { jobType, userErrors } = await client.setJobTypeRateLimit(type, limit === undefined ? null : rateLimitInput(limit, a.burst));
    if (userErrors.length) return refused(o, userErrors);
    if (a.json) o.out(JSON.stringify(jobType));
    // No type: an override left by a type this server no longer has, cleared.
    else if (!jobType) o.out(`${type} rate limit override cleared (this server has no such type)`);
    else if (!jobType.rateLimit) o.out(`${jobType.name} has no rate limit`);
    else o.out(`${jobType.name} rate limit ${limitText(jobType.rateLimit)}${jobType.rateLimit.overridden ? '' : " (its definition's)"}`);
    return 0;
  },

  async schedule(client, positionals, a, o) {
    const [name, type] = positionals as [string, string];
    // Every option left out takes its default, not the replaced schedule's value: the input is the whole schedule.
    const { created, schedule, userErrors } = await client.upsertSchedule({
      name,
      type,
      payload: a.payload,
      cron: a.cron!,
      timezone: a.timezone ?? null,
      maxAttempts: a.maxAttempts ?? null,
      timeoutMs: a.timeoutMs ?? null,
      startWithinMs: a.startWithinMs ?? null,
      paused: a.paused,
    });
    if (!schedule) return refused(o, userErrors);
    // A paused schedule has no next run (nextRunAt null) until it is written again without --paused.
    const when = schedule.paused ? 'paused' : `next run ${schedule.nextRunAt}`;
    o.out(a.json ? JSON.stringify(schedule) : `${created ? 'created' : 'replaced'} schedule ${oneLine(schedule.name)} ${when}`);
    return 0;
  },

  async schedules(client, _positionals, a, o) {
    const schedules = await client.schedules(a.owner);
    if (a.json) {
      o.out(JSON.stringify(schedules));
      return 0;
    }
    table(
      o,
      // Newer columns last (START_WITHIN_MS): a script reading the columns by position keeps reading the same ones.
      ['NAME', 'TYPE', 'CRON', 'TIMEZONE', 'NEXT_RUN', 'LAST_RUN', 'RUNS', 'LAST_JOB', 'LAST_STATE', 'PAUSED', 'START_WITHIN_MS'],
      schedules.map((s) => [
        s.name,
        s.type,
        s.cron,
        s.timezone,
        s.nextRunAt ?? '-',
        s.lastRunAt ?? '-',
        String(s.runs),
        s.lastJob?.id ?? '-',
        s.lastJob?.state ?? '-',
        s.paused ? 'paused' : '-',
        String(s.startWithinMs ?? '-'),
      ]),
    );
    return 0;
  },

  async unschedule(client, positionals, a, o) {
    const { schedule, userErrors } = await client.deleteSchedule(positionals[0]!, { owner: a.owner });
    if (!schedule) return refused(o, userErrors);
    o.out(a.json ? JSON.stringify(schedule) : `deleted schedule ${oneLine(schedule.name)} (${schedule.runs} runs)`);
    return 0;
  },

  async 'pause-schedule'(client, positionals, a, o) {
    const { schedule, userErrors } = await client.pauseSchedule(positionals[0]!, { owner: a.owner });
    if (!schedule) return refused(o, userErrors);
    o.out(a.json ? JSON.stringify(schedule) : `paused schedule ${oneLine(schedule.name)}`);
    return 0;
  },

  async 'resume-schedule'(client, positionals, a, o) {
    const { schedule, userErrors } = await client.resumeSchedule(positionals[0]!, { owner: a.owner });
    if (!schedule) return refused(o, userErrors);
    // Runs missed while paused are skipped: the next run is the cron's first time after the resume.
    o.out(a.json ? JSON.stringify(schedule) : `resumed schedule ${oneLine(schedule.name)} next run ${schedule.nextRunAt}`);
    return 0;
  },

  async 'run-schedule'(client, positionals, a, o) {
    const { job, userErrors } = await client.runSchedule(positionals[0]!, { owner: a.owner });
    if (!job) return refused(o, userErrors);
    o.out(a.json ? JSON.stringify(job) : `submitted ${jobLine(job)}`);
    return 0;
  },

  async stats(client, _positionals, a, o) {
    const stats = await client.queueStats();
    if (a.json) {
      o.out(JSON.stringify(stats));
      return 0;
    }
    table(
      o,
      // Newer columns last (SCHEDULED, PAUSED, RATE_LIMIT): a script reading the columns by position keeps reading the same ones.
      ['TYPE', 'QUEUED', 'RUNNING', 'RETRYING', 'FAILED', 'DEAD_LETTERS', 'DONE_LAST_MIN', 'OLDEST_QUEUED_S', 'SCHEDULED', 'PAUSED', 'RATE_LIMIT'],
      stats.map((s) =>
        [
          s.type,
          s.queued,
          s.running,
          s.retrying,
          s.failed,
          s.deadLetters,
          s.throughputLastMinute,
          s.oldestQueuedAgeSeconds === null ? '-' : s.oldestQueuedAgeSeconds.toFixed(1),
          s.scheduled,
          s.paused ? 'paused' : '-',
          limitText(s.rateLimit),
        ].map(String),
      ),
    );
    return 0;
  },

  async types(client, _positionals, a, o) {
    const types = await client.jobTypes();
    if (a.json) o.out(JSON.stringify(types));
    else {
      // Newer columns last (PAUSED, RATE_LIMIT, as stats shows them): a script reading the columns by position keeps reading the same ones.
      const columns = ['NAME', 'MAX_ATTEMPTS', 'TIMEOUT_MS', 'DESCRIPTION', 'PAUSED', 'RATE_LIMIT'];
      table(o, columns, types.map((t) => [t.name, String(t.defaultMaxAttempts), String(t.timeoutMs), t.description, t.paused ? 'paused' : '-', limitText(t.rateLimit)]));
    }
    return 0;
  },
};
