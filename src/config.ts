/**
 * The reader of `process.env` for settings (the only other one is `faults.ts`, LONGRUN_FAULTS, for the fault
 * tests). Every setting is parsed and checked here once, at start-up; a bad value stops the process with a
 * one-line error naming the variable.
 */
import { z } from 'zod';

/** A number written as `pattern` allows (decimal digits: `0x50` or `1e3` are refused, not read as 80 or 1000). */
const decimal = (pattern: RegExp, what: string, range: z.ZodNumber) =>
  z.string().trim().regex(pattern, `must be ${what} in decimal digits`).transform(Number).pipe(range);
/** A whole number in decimal digits (`2.0` is refused too), min..max. */
const intIn = (min: number, max: number) => decimal(/^-?\d+$/, 'a whole number', z.number().int().min(min).max(max));
/** A number in decimal digits, with a fraction if need be (`0.25`), min..max (min ≥ 0). */
const numberIn = (min: number, max: number) => decimal(/^\d+(\.\d+)?$/, 'a number', z.number().min(min).max(max));
const bool = z
  .enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'])
  .transform((v) => ['1', 'true', 'on', 'yes'].includes(v));

const natsServers = z
  .string()
  .min(1)
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .refine((list) => list.length > 0 && list.every((u) => /^(nats|tls|ws|wss):\/\/[^\s]+$|^[\w.-]+:\d+$/.test(u)), {
    message: 'expected a comma-separated list such as nats://127.0.0.1:4222',
  });

/**
 * Why an entry of a host list can match no URL's host, or null. The list is matched on the host alone, so a
 * port (`hooks.example.com:8443`, `[::1]:8443`; an IPv6 literal has two colons or more, or brackets) or a
 * leading dot (`.example.com`, as NO_PROXY writes subdomains) would silently refuse every webhook to it.
 */
function unmatchableHost(h: string): string | null {
  const port = /^(\[[^\]]*\]):\d*$/.exec(h) ?? /^([^:[\]]+):\d*$/.exec(h);
  if (port) return `${h} has a port: list the host alone (${port[1]}); ports are not checked`;
  if (h.startsWith('.')) return `${h} starts with a dot: list the subdomains as *${h}`;
  return null;
}

const hostList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean))
  .refine((list) => list.every((h) => /^(\*\.)?[a-z0-9.:[\]-]+$/.test(h)), { message: 'expected host names such as hooks.example.com,*.example.org' })
  .superRefine((list, ctx) => {
    const problem = list.map(unmatchableHost).find((p) => p !== null);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: intIn(0, 65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/[^\s]+$/, 'expected postgres://user@host:port/database')
    .default('postgres://postgres@127.0.0.1:5432/longrun'),
  /**
   * A PostgreSQL connection with a statement out and nothing heard from the server for this long is closed (its
   * statements fail as on a reset, and are retried): a link lost without a reset (a NAT or firewall dropping the
   * flow) is otherwise noticed by TCP only after many minutes. A server session idle inside a transaction this
   * long is ended by PostgreSQL (idle_in_transaction_session_timeout), so a lost client's locks are let go.
   * Longer than any statement runs silent (an admin's totalCount of a huge table) and than a transaction waits
   * on NATS (the outbox relay's, up to 5 s per window of publishes); 0: off.
   */
  DATABASE_SILENCE_TIMEOUT_MS: intIn(0, 3_600_000)
    .refine((ms) => ms === 0 || ms >= 1000, { message: 'expected 0 (off) or at least 1000' })
    .default(60_000),
  NATS_URL: natsServers.default(['nats://127.0.0.1:4222']),
  /** Prefix of every stream, consumer and subject name, so several installations (or test runs) share one NATS. */
  LONGRUN_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_]*$/, 'letters, digits and _ only')
    .default(''),
  /** Worker slots per job type in this process (each type has its own pull loop); 0 runs no workers (API only). */
  WORKER_CONCURRENCY: intIn(0, 1000).default(10),
  /**
   * Claimed jobs per type that may wait for a free slot while slots turn over fast, as a multiple of
   * WORKER_CONCURRENCY; 0 = claim only for a free slot. (Drain of no-op jobs at concurrency 50: 3 gave claim
   * batches of ~100 jobs, 6 of ~160; 10 no larger and no faster.)
   */
  WORKER_CLAIM_AHEAD: intIn(0, 20).default(6),
  /**
   * Slots of particular job types, `type=N` comma-separated (`demo.hash=2,report.build=4`), each 1..1000: for
   * those types instead of the handler's own `concurrency` or WORKER_CONCURRENCY (workers/pool.ts).
   */
  WORKER_TYPE_CONCURRENCY: z
    .string()
    .default('')
    .transform((s, ctx) => {
      const byType = new Map<string, number>();
      for (const entry of s.split(',').map((x) => x.trim()).filter(Boolean)) {
        const m = /^([^=\s]+)\s*=\s*(\d+)$/.exec(entry);
        const n = m ? Number(m[2]) : NaN;
        if (!m || n < 1 || n > 1000) {
          ctx.addIssue({ code: 'custom', message: `${JSON.stringify(entry)} is not type=N with N a whole number 1..1000` });
          return z.NEVER;
        }
        if (byType.has(m[1]!)) {
          ctx.addIssue({ code: 'custom', message: `${m[1]} is listed twice` });
          return z.NEVER;
        }
        byType.set(m[1]!, n);
      }
      return byType as ReadonlyMap<string, number>;
    }),
  /** Job types this process works on (comma-separated); empty = all. */
  WORKER_TYPES: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean)),
  /** Consumer AckWait; workers send in-progress acks every third of it. */
  ACK_WAIT_MS: intIn(1000, 3_600_000).default(30_000),
  /** JetStream duplicate window for `Nats-Msg-Id` dedupe. */
  DUPLICATE_WINDOW_MS: intIn(1000, 86_400_000).default(120_000),
  /** Outbox relay poll interval (it is also woken after each commit). */
  RELAY_INTERVAL_MS: intIn(10, 60_000).default(1000),
  /**
   * The reconciler checks a QUEUED/RETRYING job untouched this long (re-publishing a lost message), a
   * RUNNING job whose lease expired this long ago, and a notification delivery to be sent from a message
   * published this long ago with no attempt since.
   */
  RECONCILE_AFTER_MS: intIn(1000, 86_400_000).default(300_000),
  /** How long running jobs may finish on SIGTERM before their messages are handed back. */
  SHUTDOWN_GRACE_MS: intIn(0, 3_600_000).default(10_000),
  /** Minimum gap between progress writes to PostgreSQL for one job (NATS gets every update). */
  PROGRESS_DB_INTERVAL_MS: intIn(0, 60_000).default(250),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  // Security (README: Security): authentication and the limits on every input.
  /** API keys required (`Authorization: Bearer …`); `off` makes every caller the admin owner `anonymous`. */
  LONGRUN_AUTH: bool.default(true),
  /** Schema introspection; unset = on except in production. */
  GRAPHQL_INTROSPECTION: bool.optional(),
  /** How often open WebSocket connections re-check that their key is not revoked. */
  AUTH_RECHECK_MS: intIn(100, 600_000).default(2000),
  HTTP_BODY_LIMIT_BYTES: intIn(1024, 100 * 1024 * 1024).default(2 * 1024 * 1024),
  GRAPHQL_MAX_DEPTH: intIn(2, 100).default(10),
  GRAPHQL_MAX_COST: intIn(10, 10_000_000).default(5000),
  GRAPHQL_MAX_ALIASES: intIn(0, 10_000).default(30),
  /** Lexical tokens in one document; big payloads belong in variables. */
  GRAPHQL_MAX_TOKENS: intIn(100, 1_000_000).default(10_000),
  /**
   * TCP connections open at once on the API's port (HTTP keep-alive and WebSocket alike); a further one is
   * closed as it arrives (0 = no cap). Keeps a flood of idle connections from taking the process's file
   * descriptors.
   */
  HTTP_MAX_CONNECTIONS: intIn(0, 10_000_000).default(10_000),
  WS_MAX_MESSAGE_BYTES: intIn(1024, 100 * 1024 * 1024).default(1024 * 1024),
  WS_CONNECTION_INIT_TIMEOUT_MS: intIn(100, 600_000).default(10_000),
  /** A socket whose unsent data exceeds this is closed (1013) rather than buffered further. */
  WS_MAX_BUFFERED_BYTES: intIn(1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024),
  /** Every socket is pinged this often; one that did not answer the last ping is closed (0: never). */
  WS_PING_INTERVAL_MS: intIn(0, 3_600_000).default(30_000),
  /**
   * Sockets let in without a usable key (none, a bad or revoked one, or its connection slots taken), per API
   * process: a further one is closed (4403) at its connection_init instead of staying open.
   */
  WS_MAX_REFUSED_SOCKETS: intIn(0, 1_000_000).default(1000),
  MAX_CONNECTIONS_PER_KEY: intIn(1, 100_000).default(20),
  MAX_SUBSCRIPTIONS_PER_KEY: intIn(1, 1_000_000).default(200),
  /** Jobs per second one key may submit, sustained (0 = unlimited). */
  SUBMIT_RATE_PER_SEC: numberIn(0, 1_000_000).default(100),
  /** Jobs one key may submit at once before the rate applies (at least the largest batch you send). */
  SUBMIT_BURST: intIn(1, 1_000_000).default(1000),
  // Notifications (README: Notifications)
  /**
   * HMAC-SHA256 key of the `Longrun-Signature` and `Longrun-Signature-V2` headers of every webhook (or, with
   * WEBHOOK_SECRET_SCOPE=owner, the key each owner's signing secret is derived from); webhooks are refused
   * without it.
   */
  WEBHOOK_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  /**
   * The secret WEBHOOK_SECRET replaced, kept while receivers switch to the new one: it signs
   * `Longrun-Signature-V2` too (its second `sha256=`), never `Longrun-Signature`. Unset once they have.
   */
  WEBHOOK_SECRET_PREVIOUS: z.string().min(16, 'at least 16 characters').optional(),
  /**
   * `server`: every webhook is signed with WEBHOOK_SECRET itself. `owner`: each job owner's webhooks are signed
   * with a secret of that owner's own, derived from WEBHOOK_SECRET (and WEBHOOK_SECRET_PREVIOUS), which the
   * owner reads with the `webhookSigning` query: one owner's receiver cannot verify or forge another's.
   */
  WEBHOOK_SECRET_SCOPE: z.enum(['server', 'owner']).default('server'),
  /** Webhook hosts accepted (comma-separated; `*.example.com` for subdomains); empty = any public host. */
  WEBHOOK_ALLOWED_HOSTS: hostList.default([]),
  /** Also accept loopback and private-network (RFC 1918, ULA) webhook addresses (tests, on-premise). */
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  /** Time a receiver has to answer one webhook POST. */
  WEBHOOK_TIMEOUT_MS: intIn(100, 120_000).default(10_000),
  /** SMTP server for email notifications, e.g. smtp://user:pass@mail.example.com:587; unset = email refused. */
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s]+$/, 'expected smtp://host:port or smtps://user:pass@host:port')
    .optional(),
  /** Sender of notification emails. */
  SMTP_FROM: z.string().min(3).default('longrun <longrun@localhost>'),
  /** Send attempts per delivery before it is dead-lettered (FAILED). */
  NOTIFY_MAX_ATTEMPTS: intIn(1, 50).default(8),
  /** Delay before the second attempt; doubles each time (with jitter) up to NOTIFY_BACKOFF_MAX_MS. */
  NOTIFY_BACKOFF_MS: intIn(10, 3_600_000).default(2000),
  NOTIFY_BACKOFF_MAX_MS: intIn(10, 86_400_000).default(300_000),
  /** Deliveries this process sends at once; 0 runs no notifier here. */
  NOTIFIER_CONCURRENCY: intIn(0, 1000).default(10),

  // Retention (README: Retention): finished jobs older than this are deleted with all they own.
  /** Days a SUCCEEDED or CANCELLED job is kept after it finished; 0 = for ever. */
  JOB_RETENTION_DAYS: intIn(0, 36_500).default(30),
  /** Days a FAILED job (a dead letter an operator may replay) is kept after it failed; 0 = for ever. */
  FAILED_JOB_RETENTION_DAYS: intIn(0, 36_500).default(90),
  /** How often each API process runs a retention pass (batches of at most 1,000 jobs). */
  RETENTION_INTERVAL_MS: intIn(100, 86_400_000).default(60_000),

  // Operations
  /** Port of `GET /metrics` of a worker process run alone (`npm run worker`); 0 = off. */
  METRICS_PORT: intIn(0, 65535).default(9464),
  /**
   * When set, `GET /metrics` (the API's port and METRICS_PORT) answers only `Authorization: Bearer <token>`
   * (401 otherwise); unset = open. Set but empty is refused (`loadConfig`), not read as open.
   */
  METRICS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]*$/, 'printable ASCII without spaces (it travels in an HTTP header)')
    .min(16, 'at least 16 characters')
    .optional(),
  /** OTLP/HTTP endpoint (e.g. http://127.0.0.1:4318); traces are exported only when it is set. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('longrun'),
});

/** The name of every setting `loadConfig` reads, those without a default too (README: Configuration has a row for each). */
export const SETTING_NAMES = Object.keys(schema.shape) as readonly (keyof Config)[];

/** The parsed, frozen configuration. */
export type Config = Readonly<z.infer<typeof schema>>;

/** A configuration value that cannot be used; `main` prints its message as one line and exits 1. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Settings whose value a refusal does not repeat (it goes to stderr and the logs): only its length. */
const SECRETS = new Set(['WEBHOOK_SECRET', 'WEBHOOK_SECRET_PREVIOUS', 'METRICS_TOKEN']);

/**
 * A URL with its password (`user:***@`, up to its last `@`, as a password may hold one, or a comma), its
 * token (`***@`, a user part with no `:`) and a `password=` parameter replaced by `***`.
 */
const withoutCredentials = (url: string) =>
  url
    .replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?)([^]*)@/i, (_, scheme: string, userinfo: string) => `${scheme}${userinfo.includes(':') ? userinfo.slice(0, userinfo.indexOf(':') + 1) : ''}***@`)
    .replace(/([?&]password=)[^&]*/gi, '$1***');

/**
 * A value as a refusal may repeat it: a URL (one with `://`) without its credentials; NATS_URL, a
 * comma-separated list, entry by entry (any entry with an `@`: a password that held a comma split in two).
 */
const shown = (key: string, value: string) => {
  if (key === 'NATS_URL') return value.split(',').map((entry) => (entry.includes('@') ? withoutCredentials(entry) : entry)).join(',');
  return value.includes('://') ? withoutCredentials(value) : value;
};

/** `KEY="value"` (URLs without their credentials), or `KEY (n characters, not shown)` for a secret. */
const named = (key: string, value: string | undefined) =>
  SECRETS.has(key) ? `${key} (${(value ?? '').length} characters, not shown)` : `${key}=${JSON.stringify(shown(key, value ?? ''))}`;

/**
 * Parses the environment (or any record, for tests).
 * @throws ConfigError naming the first bad variable
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // The one setting whose empty value is not "unset": an empty token is most likely a secret that did not
  // arrive (`METRICS_TOKEN=${MISSING}`), and reading it as unset would leave /metrics open.
  if (env.METRICS_TOKEN !== undefined && env.METRICS_TOKEN.trim() === '') {
    throw new ConfigError(`invalid ${named('METRICS_TOKEN', env.METRICS_TOKEN)}: empty; set a token (16+ characters) or leave METRICS_TOKEN unset for an open /metrics`);
  }
  // A value of blanks alone (`PORT= ` in an env file) is unset, like an empty one: as a number it would be 0.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '?');
    throw new ConfigError(`invalid ${named(key, env[key])}: ${issue.message}`);
  }
  const c = parsed.data;
  if (c.NOTIFY_BACKOFF_MS > c.NOTIFY_BACKOFF_MAX_MS) {
    // Name the variable that was set (the other one is at its default).
    throw new ConfigError(
      'NOTIFY_BACKOFF_MS' in cleaned
        ? `invalid NOTIFY_BACKOFF_MS=${JSON.stringify(env.NOTIFY_BACKOFF_MS)}: must not exceed NOTIFY_BACKOFF_MAX_MS (${c.NOTIFY_BACKOFF_MAX_MS})`
        : `invalid NOTIFY_BACKOFF_MAX_MS=${JSON.stringify(env.NOTIFY_BACKOFF_MAX_MS)}: must not be below NOTIFY_BACKOFF_MS (${c.NOTIFY_BACKOFF_MS}, its default)`,
    );
  }
  if (c.WEBHOOK_SECRET_PREVIOUS !== undefined) {
    const previous = named('WEBHOOK_SECRET_PREVIOUS', c.WEBHOOK_SECRET_PREVIOUS);
    if (c.WEBHOOK_SECRET === undefined) throw new ConfigError(`invalid ${previous}: set WEBHOOK_SECRET too (the current secret)`);
    if (c.WEBHOOK_SECRET_PREVIOUS === c.WEBHOOK_SECRET) throw new ConfigError(`invalid ${previous}: the same as WEBHOOK_SECRET (it is the secret being replaced)`);
  }
  return Object.freeze(c);
}
