/**
 * `longrun`: the command-line client, built on the SDK.
 *
 *   longrun submit <type> [--payload JSON] [--max-attempts N] [--idempotency-key K] [--watch]
 *   longrun watch <id> [--after SEQ]
 *   longrun jobs [--state S]... [--type T]... [--first N] [--after CURSOR]
 *   longrun cancel <id> | retry <id> | stats | types
 *   longrun purge --older-than DURATION [--state S]... [--dry-run]   (admin key)
 *
 * Options: --url (env LONGRUN_URL, default http://localhost:4000/graphql), --token (env LONGRUN_TOKEN),
 * --json (print the raw result as JSON). Exit codes: 0 ok; 1 the watched job FAILED or was CANCELLED;
 * 2 bad usage or input refused (userErrors, BAD_USER_INPUT); 3 the request failed (not found, unreachable, …).
 */
import { parseArgs } from 'node:util';
import { createClient, isLongrunError, type JobState, type LongrunClient } from '../sdk/index.js';
import { processOutput, type Output } from './output.js';
import { commands, type CommandArgs } from './commands.js';
import { UsageError, wholeNumber } from './usage-error.js';
import { runKeysCommand } from '../src/auth/keys-cli.js';
import { JOB_STATES } from '../src/jobs/state.js';

export const USAGE = `usage: longrun <command> [options]

commands:
  submit <type> [--payload JSON] [--max-attempts N] [--idempotency-key K] [--watch]
  watch <id> [--after SEQ]         live progress until the job finishes
  jobs [--state S] [--type T] [--first N] [--after CURSOR]
  cancel <id>
  retry <id>
  purge --older-than 30d [--state S] [--dry-run]
                                   delete finished jobs (and their history, dead letters) now; admin key
  keys create --owner NAME [--admin] | keys revoke KEY_ID | keys list   (API keys, in DATABASE_URL)
  stats                            per-type counts, throughput, oldest queued age
  types                            the job types the server accepts

options:
  --url URL      GraphQL endpoint (env LONGRUN_URL, default http://localhost:4000/graphql)
  --token TOKEN  bearer token (env LONGRUN_TOKEN)
  --json         print results as JSON
exit codes: 0 ok, 1 job FAILED/CANCELLED, 2 bad usage or refused input, 3 request failed`;

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
  payload: { type: 'string' },
  'max-attempts': { type: 'string' },
  'idempotency-key': { type: 'string' },
  watch: { type: 'boolean', default: false },
  after: { type: 'string' },
  state: { type: 'string', multiple: true },
  type: { type: 'string', multiple: true },
  first: { type: 'string' },
  'older-than': { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type Option = keyof typeof OPTIONS;
/** Options every command takes. */
const GLOBAL_OPTIONS: readonly Option[] = ['url', 'token', 'json', 'help'];
/** Per command: how many arguments it takes and its own options; anything else is bad usage (exit 2). */
const SYNTAX: Record<string, { args: number; options: readonly Option[] }> = {
  submit: { args: 1, options: ['payload', 'max-attempts', 'idempotency-key', 'watch'] },
  watch: { args: 1, options: ['after'] },
  jobs: { args: 0, options: ['state', 'type', 'first', 'after'] },
  cancel: { args: 1, options: [] },
  retry: { args: 1, options: [] },
  purge: { args: 0, options: ['older-than', 'state', 'dry-run'] },
  stats: { args: 0, options: [] },
  types: { args: 0, options: [] },
};

/** Refuses arguments and options the command does not take (they would be ignored silently). */
function checkSyntax(command: string, positionals: string[], given: ReadonlySet<string>): void {
  const syntax = SYNTAX[command];
  if (!syntax) return; // an unknown command is refused by main
  if (positionals.length > syntax.args) {
    const extra = positionals.slice(syntax.args).map((p) => JSON.stringify(p)).join(' ');
    throw new UsageError(`${command} takes ${syntax.args === 0 ? 'no arguments' : 'one argument'}; left over: ${extra}`);
  }
  const stray = [...given].filter((name) => !GLOBAL_OPTIONS.includes(name as Option) && !syntax.options.includes(name as Option));
  if (stray.length) throw new UsageError(`${stray.map((n) => `--${n}`).join(', ')} does not apply to ${command}`);
}

/** A `--state` value, in any letter case. */
function jobState(s: string): JobState {
  const state = s.toUpperCase() as JobState;
  if (!JOB_STATES.includes(state)) throw new UsageError(`--state must be one of ${JOB_STATES.join(', ')}`);
  return state;
}

/** `--older-than`: a whole number of seconds, minutes, hours or days (`90s`, `15m`, `12h`, `30d`), in seconds. */
function duration(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)([smhd])$/.exec(v.trim());
  const seconds = m ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'] : NaN;
  if (!(seconds <= 2 ** 31 - 1)) throw new UsageError('--older-than must be a duration such as 30d, 12h, 15m or 90s (at most 68 years)');
  return seconds;
}

function parse(argv: string[]): { command: string; positionals: string[]; args: CommandArgs; url: string; token: string | undefined } {
  const { values, positionals, tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
  const int = (name: string, v: string | undefined) => (v === undefined ? undefined : wholeNumber(name, v));
  let payload: unknown;
  if (values.payload !== undefined) {
    try {
      payload = JSON.parse(values.payload);
    } catch {
      throw new UsageError('--payload must be JSON, e.g. --payload \'{"ms": 2000}\'');
    }
  }
  const [command = values.help ? 'help' : '', ...rest] = positionals;
  if (!values.help) checkSyntax(command, rest, new Set(tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : []))));
  return {
    command: values.help ? 'help' : command,
    positionals: rest,
    url: values.url ?? process.env['LONGRUN_URL'] ?? 'http://localhost:4000/graphql',
    token: values.token ?? process.env['LONGRUN_TOKEN'] ?? undefined,
    args: {
      json: values.json,
      payload,
      maxAttempts: int('max-attempts', values['max-attempts']),
      idempotencyKey: values['idempotency-key'],
      watch: values.watch,
      after: values.after,
      states: values.state?.map(jobState),
      types: values.type,
      first: int('first', values.first),
      olderThanSeconds: duration(values['older-than']),
      dryRun: values['dry-run'],
    },
  };
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[], o: Output = processOutput()): Promise<number> {
  // `longrun keys …` manages API keys in the database directly (DATABASE_URL), not through the API.
  if (argv[0] === 'keys') return runKeysCommand(argv.slice(1));
  let client: LongrunClient | null = null;
  try {
    const p = parse(argv);
    if (p.command === 'help') {
      o.out(USAGE);
      return 0;
    }
    const run = commands[p.command];
    if (!run) throw new UsageError(p.command ? `unknown command ${JSON.stringify(p.command)}` : 'no command given');
    client = createClient({ url: p.url, token: p.token });
    return await run(client, p.positionals, p.args, o);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      o.err(`longrun: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (isLongrunError(e)) {
      o.err(`longrun: ${e.code}: ${e.message}`);
      return e.code === 'BAD_USER_INPUT' ? 2 : 3; // the server refused the input (a page size, an after)
    }
    o.err(`longrun: ${(e as Error).message ?? String(e)}`);
    return 3;
  } finally {
    await client?.close();
  }
}
