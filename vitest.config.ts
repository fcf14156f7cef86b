import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';
import { isPostgresTypeFetchReset } from './src/process.js';

const require = createRequire(import.meta.url);

/**
 * `npm test` runs every suite, including the slow fault tests under test/faults/ (which also run alone
 * with `npm run test:faults`). Each worker is a forked process, so a test may kill what it spawned.
 */
export default defineConfig({
  resolve: {
    // graphql 16 has no "exports" map: Node (and so Apollo, graphql-ws, @graphql-tools at run time) loads its
    // CommonJS build, while Vite would pick its "module" (ESM) build for our sources. Two copies break
    // graphql-js' instanceof checks (validate, isObjectType …): point our imports at the one Node loads.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/global.ts'],
    pool: 'forks',
    // Two files at a time on this 2-core machine: integration files wait on PostgreSQL and NATS more
    // than they compute. Fault tests measure timings (redelivery after ack_wait, recovery time), so
    // give them generous timeouts rather than a busier machine.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    // A fault-test file starting with `// @module-tag faults` gets this tag's longer timeout. Select fault
    // tests by path (`npm run test:faults`): `--tags-filter` would report every other test as skipped.
    tags: [{ name: 'faults', description: 'kills or restarts services (test/faults/)', timeout: 480_000 }],
    // The one postgres.js rejection the processes survive (src/process.ts) is not a test failure either: a
    // test that stops PostgreSQL can close a connection of the in-process app while it reads its types.
    onUnhandledError: (error) => (isPostgresTypeFetchReset(error) ? false : undefined),
  },
});
