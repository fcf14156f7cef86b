/** Types of what the tests use of services.mjs (plain JavaScript, run by `npm start` before any TypeScript). */
/** Sets env.DATABASE_URL to a private instance when the configured server is unreachable. */
export function ensurePostgres(env: Record<string, string | undefined>): Promise<void>;
/** Sets env.NATS_URL to a private instance when none of the configured servers is reachable. */
export function ensureNats(env: Record<string, string | undefined>): Promise<void>;
