import { defineConfig } from 'vitest/config';

/**
 * `npm test` runs every suite, including the slow fault tests under test/faults/ (which also run alone
 * with `npm run test:faults`). Each worker is a forked process, so a test may kill what it spawned.
 */
export default defineConfig({
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
    tags: [{ name: 'faults', description: 'kills or restarts services (test/faults/)', timeout: 180_000 }],
  },
});
