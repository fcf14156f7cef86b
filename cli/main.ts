/**
 * `longrun`: the command-line client, built on the SDK. Its commands and options, and the usage text built
 * from them, are in `cli/syntax.ts`; `longrun keys …` manages API keys (src/auth/keys-cli.ts).
 *
 * Exit codes: 0 ok; 1 the watched job FAILED or was CANCELLED; 2 bad usage or input refused (userErrors,
 * BAD_USER_INPUT); 3 the request failed (not found, unreachable, …), or the output could not be written (a full
 * disk); 141 the output's reader went away (output.ts).
 */
import { createClient, isLongrunError, type JobState, type LongrunClient } from '../sdk/index.js';
import { endpointProblem } from '../sdk/client.js';
import { processOutput, type Output } from './output.js';
import { commands, type CommandArgs } from './commands.js';
import { checkRequired, checkSyntax, isCommand, readCommandLine, USAGE } from './syntax.js';
import { UsageError, wholeNumber } from './usage-error.js';
import { runKeysCommand } from '../src/auth/keys-cli.js';
import { JOB_STATES } from '../src/jobs/state.js';

/** A `--state` value, in any letter case. */
function jobState(s: string): JobState {
  const state = s.toUpperCase() as JobState;
  if (!JOB_STATES.includes(state)) throw new UsageError(`--state must be one of ${JOB_STATES.join(', ')}`);
  return state;
}

/**
 * `--older-than`, `--delay`: a whole number of seconds, minutes, hours or days (`90s`, `15m`, `12h`, `30d`), in
 * seconds.
 */
function duration(option: 'older-than' | 'delay' | 'start-by' | 'start-within', v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)([smhd])$/.exec(v.trim());
  const seconds = m ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'] : NaN;
  if (!(seconds <= 2 ** 31 - 1)) throw new UsageError(`--${option} must be a duration such as 30d, 12h, 15m or 90s (at most 68 years)`);
  return seconds;
}

/**
 * Whether the date a date-time starts with is a day of the calendar: `Date` reads `2026-02-30` (and
 * `2026-04-31T10:00Z`) as the days after the month's last, without a word.
 */
function onCalendar(text: string): boolean {
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(year, month, 0); // day 0 of the next month (setUTCFullYear: years 0..99 as written)
  return day <= lastDay.getUTCDate();
}

/**
 * `--failed-after`, `--failed-before`, `--run-at`: a date-time as `Date` reads it (ISO 8601:
 * `2026-12-01T10:00:00Z`; without an offset, local time).
 */
function instant(option: 'failed-after' | 'failed-before' | 'run-at' | 'start-by', v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const text = v.trim();
  // JavaScript reads a date alone as UTC and a date-time without an offset as local time: a date alone is
  // made the local midnight, as `2026-12-01T00:00` would be, so both forms mean this machine's time.
  const at = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00`) : /^\d{4}-\d{2}-\d{2}/.test(text) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(at.getTime()) || !onCalendar(text)) throw new UsageError(`--${option} must be an ISO 8601 date-time, e.g. --${option} 2026-12-01T10:00:00Z`);
  return at.toISOString();
}

/**
 * `submit` / `reschedule` `--run-at ISO` or `--delay DURATION` (from now, by this machine's clock), or
 * (`reschedule`) `--now`, one of them: the job's runAt (undefined: none given, or `--now`).
 */
function runAt(at: string | undefined, delay: string | undefined, now: boolean): string | undefined {
  const given = [at !== undefined && '--run-at', delay !== undefined && '--delay', now && '--now'].filter((g) => g !== false);
  if (given.length > 1) throw new UsageError(`${given.join(' and ')} ${given.length > 2 ? 'all' : 'both'} say when the job runs: give one`);
  const seconds = duration('delay', delay);
  return seconds === undefined ? instant('run-at', at) : new Date(Date.now() + seconds * 1000).toISOString();
}

/**
 * `submit --start-by`: an ISO date-time, or a duration from now (by this machine's clock) such as `10m`.
 */
function startBy(v: string | undefined): string | undefined {
  if (v === undefined || !/^\s*\d+[smhd]\s*$/.test(v)) return instant('start-by', v);
  return new Date(Date.now() + duration('start-by', v)! * 1000).toISOString();
}

/**
 * `schedule --start-within DURATION`, in ms: at most the largest GraphQL `Int` ms (24d), which the server's
 * `startWithinMs` takes; the server refuses less than a second.
 */
function startWithinMs(v: string | undefined): number | undefined {
  const seconds = duration('start-within', v);
  if (seconds !== undefined && seconds * 1000 > 2_147_483_647) throw new UsageError('--start-within must be at most 24d (2147483647 ms)');
  return seconds === undefined ? undefined : seconds * 1000;
}

/**
 * `--url` or `--token`, else its environment variable. A variable of blanks alone is unset, as the server
 * reads its own settings (`LONGRUN_TOKEN=` in an env file); a blank option is bad usage: `--token "$KEY"` with
 * KEY unset would send no key, and the server's UNAUTHENTICATED would not say why.
 */
function setting(option: 'url' | 'token', given: string | undefined, variable: string, what: string): string | undefined {
  if (given === undefined) return process.env[variable]?.trim() ? process.env[variable] : undefined;
  if (!given.trim()) throw new UsageError(`--${option} is empty: give ${what}, or leave --${option} out to use ${variable}`);
  return given;
}

function parse(argv: string[]): { command: string; positionals: string[]; args: CommandArgs; url: string; token: string | undefined } {
  const { positionals, given, value, list, flag } = readCommandLine(argv);
  const int = (name: 'max-attempts' | 'first' | 'timeout-ms' | 'burst') => {
    const v = value(name);
    return v === undefined ? undefined : wholeNumber(name, v);
  };
  let payload: unknown;
  const payloadJson = value('payload');
  if (payloadJson !== undefined) {
    try {
      payload = JSON.parse(payloadJson);
    } catch {
      throw new UsageError('--payload must be JSON, e.g. --payload \'{"ms": 2000}\'');
    }
  }
  const help = flag('help');
  const [command = help ? 'help' : '', ...rest] = positionals;
  if (!help) checkSyntax(command, rest, given);
  const args: CommandArgs = {
    json: flag('json'),
    payload,
    maxAttempts: int('max-attempts'),
    timeoutMs: int('timeout-ms'),
    idempotencyKey: value('idempotency-key'),
    watch: flag('watch'),
    after: value('after'),
    ids: list('id'),
    states: list('state')?.map(jobState),
    types: list('type'),
    first: int('first'),
    olderThanSeconds: duration('older-than', value('older-than')),
    dryRun: flag('dry-run'),
    failedAfter: instant('failed-after', value('failed-after')),
    failedBefore: instant('failed-before', value('failed-before')),
    deadLettered: flag('dead-lettered'),
    all: flag('all'),
    runAt: runAt(value('run-at'), value('delay'), flag('now')),
    now: flag('now'),
    startBy: startBy(value('start-by')),
    startWithinMs: startWithinMs(value('start-within')),
    cron: value('cron'),
    timezone: value('timezone'),
    paused: flag('paused'),
    owner: value('owner'),
    burst: int('burst'),
    clear: flag('clear'),
  };
  if (!help) checkRequired(command, rest, given);
  const url = setting('url', value('url'), 'LONGRUN_URL', 'the GraphQL endpoint') ?? 'http://localhost:4000/graphql';
  const urlProblem = endpointProblem(url, 'http');
  if (urlProblem && !help) throw new UsageError(`--url or LONGRUN_URL: ${urlProblem}`);
  return {
    command: help ? 'help' : command,
    positionals: rest,
    url,
    token: setting('token', value('token'), 'LONGRUN_TOKEN', 'an API key'),
    args,
  };
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], o: Output = processOutput(argv[0] === 'keys' ? 1 : 3)): Promise<number> {
  // `longrun keys …` manages API keys in the database directly (DATABASE_URL), not through the API. It prints
  // through `o` as the other commands do (a reader gone away ends it with 141, too).
  if (argv[0] === 'keys') return runKeysCommand(argv.slice(1), o);
  let client: LongrunClient | null = null;
  let token: string | undefined;
  try {
    const p = parse(argv);
    token = p.token;
    if (p.command === 'help') {
      o.out(USAGE);
      return 0;
    }
    const run = isCommand(p.command) ? commands[p.command] : undefined;
    if (!run) throw new UsageError(p.command ? `unknown command ${JSON.stringify(p.command)}` : 'no command given');
    // A frozen server fails a request after the SDK's 30 s; a purge call may take longer (thousands of jobs with
    // long histories) and is left to run: Ctrl-C stops waiting for it.
    client = createClient({ url: p.url, token: p.token, ...(p.command === 'purge' ? { requestTimeoutMs: 0 } : {}) });
    return await run(client, p.positionals, p.args, o);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      o.err(`longrun: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (isLongrunError(e)) {
      o.err(`longrun: ${e.code}: ${e.message}`);
      if (e.code === 'UNAUTHENTICATED' && token === undefined) o.err('longrun: no API key was given: pass --token KEY or set LONGRUN_TOKEN');
      return e.code === 'BAD_USER_INPUT' ? 2 : 3; // the server refused the input (a page size, an after)
    }
    o.err(`longrun: ${(e as Error).message ?? String(e)}`);
    return 3;
  } finally {
    await client?.close();
  }
}
