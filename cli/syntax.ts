/**
 * The CLI's syntax, in one table: each command's arguments, its options (the metavariable of each option that
 * takes a value; whether it is required or repeatable) and its one-line description, then the options every
 * command takes. The usage text, the options given to node:util `parseArgs` and the syntax check are all
 * built from it. `longrun keys …` is handled elsewhere (src/auth/keys-cli.ts); the usage keeps a line for it.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';

/** One option as a command takes it. */
interface OptionSyntax {
  /** The name after `--`. */
  readonly name: string;
  /** What its value stands for in the usage (`JSON`, `N`); without one the option is a flag and takes no value. */
  readonly meta?: string;
  /** The command is refused without it. */
  readonly required?: true;
  /** It may be given more than once; every value is kept. */
  readonly repeatable?: true;
  /** A value shown when a required option is missing (`purge needs --older-than, e.g. --older-than 30d`). */
  readonly example?: string;
  /** A one-letter alias (`-h`). */
  readonly short?: string;
}

interface CommandSyntax {
  /** Its arguments, in order, all required (shown `<id>`). */
  readonly args: readonly string[];
  /** Arguments it may be given after those (shown `[<id>]`). */
  readonly optionalArgs?: readonly string[];
  readonly options: readonly OptionSyntax[];
  /** One line for the usage. */
  readonly description: string;
}

/** Another owner's schedules (an admin key's); without it, the key's own. */
const OWNER = { name: 'owner', meta: 'OWNER' } as const;

/** The commands (main.ts runs them from `commands.ts`); anything not in this table is bad usage (exit 2). */
export const COMMANDS = {
  submit: {
    args: ['type'],
    options: [
      { name: 'payload', meta: 'JSON' },
      { name: 'max-attempts', meta: 'N' },
      { name: 'timeout-ms', meta: 'MS' },
      { name: 'idempotency-key', meta: 'K' },
      { name: 'run-at', meta: 'ISO' },
      { name: 'delay', meta: 'DURATION' },
      { name: 'start-by', meta: 'ISO|DURATION' },
      { name: 'watch' },
    ],
    description:
      'submit a job (its input: --payload); --run-at or --delay schedules it; --start-by: it expires (FAILED) unless started by then; --watch follows it as watch does',
  },
  watch: { args: ['id'], options: [{ name: 'after', meta: 'SEQ' }], description: 'live progress until the job finishes' },
  show: { args: ['id'], options: [], description: 'one job: its state, attempts, error or result, payload and history' },
  jobs: {
    args: [],
    options: [
      { name: 'id', meta: 'ID', repeatable: true },
      { name: 'state', meta: 'S', repeatable: true },
      { name: 'type', meta: 'T', repeatable: true },
      { name: 'first', meta: 'N' },
      { name: 'after', meta: 'CURSOR' },
    ],
    description: 'your jobs, newest first, a page at a time (20 unless --first); --id: these ones only (100 at most)',
  },
  'dead-letters': {
    args: [],
    options: [
      { name: 'type', meta: 'T', repeatable: true },
      { name: 'first', meta: 'N' },
      { name: 'after', meta: 'CURSOR' },
    ],
    description: 'FAILED jobs in the dead-letter stream, latest first, with their errors (one --type at most)',
  },
  cancel: {
    args: [],
    optionalArgs: ['id'],
    options: [{ name: 'type', meta: 'T', repeatable: true }, { name: 'state', meta: 'S', repeatable: true }, { name: 'all' }],
    description: 'cancel a job (a running one is aborted), or without <id> all not finished that match (or --all)',
  },
  reschedule: {
    args: ['id'],
    options: [{ name: 'run-at', meta: 'ISO' }, { name: 'delay', meta: 'DURATION' }, { name: 'now' }],
    description: 'move a QUEUED or RETRYING job: it runs at --run-at, after --delay, or --now (one of them)',
  },
  retry: {
    args: [],
    optionalArgs: ['id'],
    options: [
      { name: 'type', meta: 'T', repeatable: true },
      { name: 'failed-after', meta: 'ISO' },
      { name: 'failed-before', meta: 'ISO' },
      { name: 'dead-lettered' },
      { name: 'all' },
      { name: 'timeout-ms', meta: 'MS' },
    ],
    description: 'replay a FAILED job (same id, history kept), or without <id> all that match (or --all)',
  },
  purge: {
    args: [],
    options: [{ name: 'older-than', meta: 'DURATION', required: true, example: '30d' }, { name: 'state', meta: 'S', repeatable: true }, { name: 'dry-run' }],
    description: 'delete old finished jobs (DURATION: 30d, 12h, 15m, 90s), history, dead letters; admin key',
  },
  pause: { args: ['type'], options: [], description: 'workers start no job of the type until resume (submits still accepted); admin key' },
  resume: { args: ['type'], options: [], description: 'workers run the paused type\'s jobs again; admin key' },
  'rate-limit': {
    args: ['type'],
    optionalArgs: ['max/perMs'],
    options: [{ name: 'burst', meta: 'N' }, { name: 'clear' }],
    description: "override a rate-limited type's limit (5/1000: 5 starts per 1000 ms) for every worker from its next pull; --clear: its definition's again; admin key",
  },
  schedule: {
    args: ['name', 'type'],
    options: [
      { name: 'cron', meta: 'EXPR', required: true, example: "'0 6 * * 1-5'" },
      { name: 'payload', meta: 'JSON' },
      { name: 'timezone', meta: 'TZ' },
      { name: 'max-attempts', meta: 'N' },
      { name: 'timeout-ms', meta: 'MS' },
      { name: 'start-within', meta: 'DURATION' },
      { name: 'paused' },
    ],
    description:
      'create or replace a recurring job: a job of <type> each time --cron names (in --timezone, default UTC); --start-within: a run not started that long after its time expires',
  },
  schedules: { args: [], options: [OWNER], description: "your schedules (--owner: another owner's, admin key): cron, next and last run, runs, last job, paused, start window" },
  unschedule: { args: ['name'], options: [OWNER], description: 'delete a schedule: it submits no more jobs (those it made stay)' },
  'pause-schedule': { args: ['name'], options: [OWNER], description: 'pause a schedule: it submits no job until resume-schedule' },
  'resume-schedule': { args: ['name'], options: [OWNER], description: 'a paused schedule runs again, from the first time its cron names after now' },
  'run-schedule': { args: ['name'], options: [OWNER], description: "submit a schedule's job now (paused or not); its next run stays" },
  stats: { args: [], options: [], description: 'per-type counts, throughput, oldest queued age, paused' },
  types: { args: [], options: [], description: 'the job types the server accepts' },
} as const satisfies Record<string, CommandSyntax>;

/** Options every command takes, with what they do. */
const GLOBAL_OPTIONS = [
  { name: 'url', meta: 'URL', description: 'GraphQL endpoint (env LONGRUN_URL, default http://localhost:4000/graphql)' },
  { name: 'token', meta: 'TOKEN', description: 'bearer token (env LONGRUN_TOKEN)' },
  { name: 'json', description: 'print results as JSON' },
  { name: 'help', short: 'h', description: 'print this text' },
] as const satisfies readonly (OptionSyntax & { description: string })[];

export type CommandName = keyof typeof COMMANDS;
type AnyOption = (typeof COMMANDS)[CommandName]['options'][number] | (typeof GLOBAL_OPTIONS)[number];
/** Options that take one value, options that take many, flags: what `readCommandLine`'s readers accept. */
type ValueOption = Exclude<Extract<AnyOption, { meta: string }>, { repeatable: true }>['name'];
type ListOption = Extract<AnyOption, { repeatable: true }>['name'];
type FlagOption = Exclude<AnyOption, { meta: string }>['name'];

/** Whether the table has this command (its own key: `toString` is no command). */
export const isCommand = (name: string): name is CommandName => Object.hasOwn(COMMANDS, name);

const syntaxOf = (command: string): CommandSyntax | undefined => (isCommand(command) ? COMMANDS[command] : undefined);

/** How a command, or the option list, is shown: `[--state S]...`, `--older-than DURATION`. */
function optionUsage(o: OptionSyntax): string {
  const shown = `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.meta ? ` ${o.meta}` : ''}`;
  return `${o.required ? shown : `[${shown}]`}${o.repeatable ? '...' : ''}`;
}

/** A line of the usage: the description at `column`, or under the synopsis when that is too long. */
function usageLine(synopsis: string, description: string, column: number): string {
  const head = `  ${synopsis}`;
  return head.length < column - 1 ? `${head.padEnd(column)}${description}` : `${head}\n${' '.repeat(column)}${description}`;
}

/** Printed by `--help`, and after every usage error. */
export const USAGE = [
  'usage: longrun <command> [options]',
  '',
  'commands:',
  ...Object.entries(COMMANDS).map(([name, c]: [string, CommandSyntax]) =>
    usageLine([name, ...c.args.map((a) => `<${a}>`), ...(c.optionalArgs ?? []).map((a) => `[<${a}>]`), ...c.options.map(optionUsage)].join(' '), c.description, 35),
  ),
  usageLine('keys create --owner NAME [--admin] | keys revoke KEY_ID | keys list', 'API keys, in the database at DATABASE_URL', 35),
  '',
  'options:',
  ...GLOBAL_OPTIONS.map((o) => usageLine(optionUsage({ ...o, required: true }), o.description, 17)),
  'exit codes: 0 ok, 1 job FAILED/CANCELLED, 2 bad usage or refused input, 3 request failed',
].join('\n');

/** The options `parseArgs` reads: every option in the table once, a flag or one that takes (many) values. */
function parseOptions() {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string; default?: boolean }> = {};
  const all: readonly OptionSyntax[] = [...GLOBAL_OPTIONS, ...Object.values(COMMANDS).flatMap((c): readonly OptionSyntax[] => c.options)];
  for (const o of all) {
    const option = o.meta ? { type: 'string' as const, multiple: o.repeatable === true } : { type: 'boolean' as const, default: false };
    const seen = options[o.name];
    if (seen && (seen.type !== option.type || seen.multiple !== option.multiple)) throw new Error(`--${o.name} is given two syntaxes`);
    options[o.name] = o.short ? { ...option, short: o.short } : option;
  }
  return options;
}
const PARSE_OPTIONS = parseOptions();

/** The command line read (parseArgs, strict): its positionals, the options given, and readers of their values. */
export function readCommandLine(argv: string[]) {
  const { values, positionals, tokens } = parseArgs({ args: argv, options: PARSE_OPTIONS, allowPositionals: true, strict: true, tokens: true });
  const names = tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : []));
  return {
    positionals,
    /** The names of the options given, each once (`given.count`: how many times each was given). */
    given: Object.assign(new Set(names), { count: (name: string) => names.filter((n) => n === name).length }),
    value: (name: ValueOption) => values[name] as string | undefined,
    list: (name: ListOption) => values[name] as string[] | undefined,
    flag: (name: FlagOption) => values[name] === true,
  };
}

/** The options a command line gave: their names, and how many times each was given. */
export type GivenOptions = ReadonlySet<string> & { count(name: string): number };

/**
 * Refuses arguments and options the command does not take (they would be ignored silently), and an option
 * that takes one value given twice (parseArgs keeps the last: `purge --older-than 30d … --older-than 1h`
 * would purge what is an hour old).
 */
export function checkSyntax(command: string, positionals: string[], given: GivenOptions): void {
  const syntax = syntaxOf(command);
  if (!syntax) return; // an unknown command is refused by main
  const n = syntax.args.length + (syntax.optionalArgs?.length ?? 0);
  if (positionals.length > n) {
    const extra = positionals.slice(n).map((p) => JSON.stringify(p)).join(' ');
    throw new UsageError(`${command} takes ${n === 0 ? 'no arguments' : n === 1 ? 'one argument' : `${n} arguments`}; left over: ${extra}`);
  }
  const takes = (name: string) => GLOBAL_OPTIONS.some((o) => o.name === name) || syntax.options.some((o) => o.name === name);
  const stray = [...given].filter((name) => !takes(name));
  if (stray.length) throw new UsageError(`${stray.map((n) => `--${n}`).join(', ')} does not apply to ${command}`);
  const once = [...given].filter((name) => PARSE_OPTIONS[name]?.type === 'string' && !PARSE_OPTIONS[name].multiple && given.count(name) > 1);
  if (once.length) throw new UsageError(`${once.map((n) => `--${n}`).join(', ')} given more than once: give each once`);
}

/** Refuses a command without its arguments or its required options (checked once the values are read). */
export function checkRequired(command: string, positionals: string[], given: ReadonlySet<string>): void {
  const syntax = syntaxOf(command);
  if (!syntax) return;
  const missing = syntax.args.find((_, i) => !positionals[i]);
  if (missing) throw new UsageError(`missing <${missing}>`);
  for (const o of syntax.options) {
    if (o.required && !given.has(o.name)) throw new UsageError(`${command} needs --${o.name}${o.example ? `, e.g. --${o.name} ${o.example}` : ''}`);
  }
}
