/** Only postgres.js' known null-socket write is survived; other uncaught errors still end the process. */
import { expect, it } from 'vitest';
import { isPostgresNullSocketWrite } from '../../src/process.js';

it('recognises the postgres.js nextWrite race and nothing else', () => {
  const race = new TypeError("Cannot read properties of null (reading 'write')");
  race.stack = `${race.message}\n    at Immediate.nextWrite (file:///app/node_modules/postgres/src/connection.js:255:22)\n    at process.processImmediate (node:internal/timers:483:21)`;
  expect(isPostgresNullSocketWrite(race)).toBe(true);

  const ours = new TypeError("Cannot read properties of null (reading 'write')");
  ours.stack = `${ours.message}\n    at flush (file:///app/src/messaging/outbox-relay.ts:10:3)`;
  expect(isPostgresNullSocketWrite(ours)).toBe(false);
  expect(isPostgresNullSocketWrite(new Error('boom'))).toBe(false);
});
