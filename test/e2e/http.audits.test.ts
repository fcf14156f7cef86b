/**
 * GraphQL over HTTP conformance: the `graphql-http` package's server audits against the running server, one
 * test per audit. Every MUST passes; Apollo's known SHOULD/MAY deviations (3 warnings: 400 instead of 200
 * for parse/validation/coercion errors under application/json; 3 notices: CSRF prevention of header-less
 * GETs) are pinned so a change in them shows up.
 */
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer } from '../support/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

const notOk: Record<string, string> = {};

/** `fetch` with the test app's admin key added: the audits are about the protocol, not about auth. */
const fetchWithKey: typeof fetch = (input, init) => {
  const headers = new Headers(init?.headers);
  headers.set('authorization', bearer(t.key!));
  return fetch(input, { ...init, headers });
};

describe('graphql-http server audits', () => {
  for (const audit of serverAudits({ url: () => t.url, fetchFn: fetchWithKey })) {
    it(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      if (result.status === 'error') throw new Error(`${result.reason}\n${JSON.stringify(result.response?.status)}`);
      if (result.status !== 'ok') notOk[audit.id] = result.status;
      expect(['ok', 'warn', 'notice']).toContain(result.status);
    });
  }

  it('has exactly the known warnings and notices', () => {
    const counts = Object.values(notOk).reduce<Record<string, number>>((c, s) => ({ ...c, [s]: (c[s] ?? 0) + 1 }), {});
    expect(counts).toEqual({ warn: 3, notice: 3 });
  });
});
