/**
 * `setJobTypeRateLimit` (admins only) as a client sees it: refusals (a type this server does not have, a type
 * without a rate limit in code, each field out of range, a key that is not an admin's) with their codes and
 * fields, writing nothing; an override shown by queueStats and jobTypes as the limit in force, `overridden`;
 * and `longrun rate-limit` setting, showing (stats, types) and clearing it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runCli } from '../support/cli.js';
import { bearer, gql } from '../support/graphql.js';

const payload = z.object({});
const limited = defineJobType({ name: 'test.limited', description: '20 per second', payload, rateLimit: { max: 20, perMs: 1000 } });
const free = defineJobType({ name: 'test.free', description: 'no limit', payload });

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, limited, free], handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

const SET = /* GraphQL */ `
  mutation S($type: String!, $rateLimit: RateLimitInput) {
    setJobTypeRateLimit(type: $type, rateLimit: $rateLimit) { jobType { name paused rateLimit { max perMs burst overridden } } userErrors { code field message } }
  }
`;
const set = async (type: string, rateLimit: unknown) => (await gql(t.url, SET, { type, rateLimit })).body.data.setJobTypeRateLimit;
const rows = () => t.env.sql`select * from rate_limits order by type`;
const SHOWN = '{ queueStats { type rateLimit { max perMs burst overridden } } jobTypes { name rateLimit { max perMs burst overridden } } }';
async function shown(type: string) {
  const data = (await gql(t.url, SHOWN)).body.data as { queueStats: { type: string; rateLimit: unknown }[]; jobTypes: { name: string; rateLimit: unknown }[] };
  return { queueStats: data.queueStats.find((s) => s.type === type)!.rateLimit, jobTypes: data.jobTypes.find((j) => j.name === type)!.rateLimit };
}

describe('setJobTypeRateLimit', () => {
  it('overrides the limit shown by queueStats and jobTypes, and clears it', async () => {
    const answer = await set(limited.name, { max: 5, perMs: 2000, burst: 2 });
    const override = { max: 5, perMs: 2000, burst: 2, overridden: true };
    expect(answer).toEqual({ jobType: { name: limited.name, paused: false, rateLimit: override }, userErrors: [] });
    expect(await shown(limited.name)).toEqual({ queueStats: override, jobTypes: override });
    // burst left out: max.
    expect((await set(limited.name, { max: 3, perMs: 1000 })).jobType.rateLimit).toEqual({ max: 3, perMs: 1000, burst: 3, overridden: true });

    const code = { max: 20, perMs: 1000, burst: 20, overridden: false };
    expect(await set(limited.name, null)).toEqual({ jobType: { name: limited.name, paused: false, rateLimit: code }, userErrors: [] });
    expect(await shown(limited.name)).toEqual({ queueStats: code, jobTypes: code });
    expect(await shown(free.name)).toEqual({ queueStats: null, jobTypes: null });
  });

  it('refuses, writing nothing: a type it does not have, one without a rate limit in code, each field out of range', async () => {
    await set(limited.name, { max: 10, perMs: 1000, burst: 5 });
    const before = await rows();
    expect(before.map((r) => r.type)).toEqual([limited.name]);

    expect(await set('no.such', { max: 1, perMs: 1000 })).toEqual({
      jobType: null,
      userErrors: [{ code: 'UNKNOWN_JOB_TYPE', field: ['type'], message: 'this server has no job type "no.such"' }],
    });
    const unlimited = await set(free.name, { max: 1, perMs: 1000 });
    expect(unlimited).toMatchObject({ jobType: null, userErrors: [{ code: 'INVALID_STATE', field: ['type'] }] });
    expect(unlimited.userErrors[0].message).toMatch(/define rateLimit in its defineJobType, or pause the type \(pauseJobType\) instead/);

    const refusedFields = async (rateLimit: unknown) =>
      ((await set(limited.name, rateLimit)) as { jobType: unknown; userErrors: { code: string; field: string[] }[] }).userErrors.map((e) => [e.code, e.field.join('.')]);
    expect(await refusedFields({ max: 0, perMs: 1000 })).toEqual([['OUT_OF_RANGE', 'rateLimit.max']]);
    expect(await refusedFields({ max: 100_001, perMs: 1000 })).toEqual([['OUT_OF_RANGE', 'rateLimit.max']]);
    expect(await refusedFields({ max: 5, perMs: 0 })).toEqual([['OUT_OF_RANGE', 'rateLimit.perMs']]);
    expect(await refusedFields({ max: 5, perMs: 86_400_001 })).toEqual([['OUT_OF_RANGE', 'rateLimit.perMs']]);
    expect(await refusedFields({ max: 5, perMs: 1000, burst: 6 })).toEqual([['OUT_OF_RANGE', 'rateLimit.burst']]);
    expect(await refusedFields({ max: 5, perMs: 1000, burst: 0 })).toEqual([['OUT_OF_RANGE', 'rateLimit.burst']]);

    expect(await rows()).toEqual(before);
    const kept = { max: 10, perMs: 1000, burst: 5, overridden: true };
    expect(await shown(limited.name)).toEqual({ queueStats: kept, jobTypes: kept });
  });

  it('clears an override left from when a type had a limit in code, or from a type since removed', async () => {
    // As a deploy leaves them: the row's override stays when the definition drops its limit, or the type.
    await t.env.sql`insert into rate_limits (type, tat, override_max, override_per_ms, override_burst, override_set_at)
      values (${free.name}, now() + interval '1 hour', 1, 3600000, 1, now()), ('gone.type', now(), 1, 1000, 1, now())`;
    expect(await set(free.name, null)).toEqual({ jobType: { name: free.name, paused: false, rateLimit: null }, userErrors: [] });
    expect(await set('gone.type', null)).toEqual({ jobType: null, userErrors: [] });
    const left = await t.env.sql<{ type: string; override: number | null; owed: boolean }[]>`
      select type, override_max as override, tat > now() as owed from rate_limits where type in (${free.name}, 'gone.type') order by type`;
    expect(left).toEqual([
      { type: 'gone.type', override: null, owed: false },
      { type: free.name, override: null, owed: false },
    ]);
    // Nothing left to clear on a type this server does not have: as resumeJobType answers.
    expect((await set('gone.type', null)).userErrors).toEqual([{ code: 'UNKNOWN_JOB_TYPE', field: ['type'], message: 'this server has no job type "gone.type"' }]);
    await t.env.sql`delete from rate_limits where type in (${free.name}, 'gone.type')`;
  });

  it('refuses a key that is not an admin\'s (FORBIDDEN, as pauseJobType), writing nothing', async () => {
    const before = await rows();
    const { key } = await t.createKey('someone');
    const r = await gql(t.url, SET, { type: limited.name, rateLimit: { max: 1, perMs: 1000 } }, { authorization: bearer(key) });
    expect(r.body.errors?.[0]).toMatchObject({ message: 'setJobTypeRateLimit needs an admin key', extensions: { code: 'FORBIDDEN' } });
    const cleared = await gql(t.url, SET, { type: limited.name, rateLimit: null }, { authorization: bearer(key) });
    expect(cleared.body.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect(await rows()).toEqual(before);
  });
});

describe('longrun rate-limit', () => {
  const cli = (...args: string[]) => runCli(t.url, t.key!, args);
  const column = async (command: 'stats' | 'types', type: string) => {
    const cells = (await cli(command)).stdout.split('\n').find((l) => l.startsWith(`${type}\t`))!.split('\t');
    return cells[cells.length - 1];
  };

  it('sets the override (stats and types mark it), and clears it', async () => {
    expect(await cli('rate-limit', limited.name, '5/1000')).toEqual({ code: 0, stdout: 'test.limited rate limit 5/1000ms (override)\n', stderr: '' });
    expect(await cli('rate-limit', limited.name, '5/1000', '--burst', '2')).toEqual({ code: 0, stdout: 'test.limited rate limit 5/1000ms,burst=2 (override)\n', stderr: '' });
    expect([await column('stats', limited.name), await column('types', limited.name)]).toEqual(['5/1000ms,burst=2 (override)', '5/1000ms,burst=2 (override)']);

    expect(await cli('rate-limit', limited.name, '--clear')).toEqual({ code: 0, stdout: "test.limited rate limit 20/1000ms (its definition's)\n", stderr: '' });
    expect([await column('stats', limited.name), await column('types', limited.name)]).toEqual(['20/1000ms', '20/1000ms']);

    // Clearing what a type without a limit in code, or a type since removed, was left with.
    await t.env.sql`insert into rate_limits (type, override_max, override_per_ms, override_burst, override_set_at)
      values (${free.name}, 1, 1000, 1, now()), ('gone.type', 1, 1000, 1, now())`;
    expect(await cli('rate-limit', free.name, '--clear')).toEqual({ code: 0, stdout: 'test.free has no rate limit\n', stderr: '' });
    expect(await cli('rate-limit', 'gone.type', '--clear')).toEqual({
      code: 0,
      stdout: 'gone.type rate limit override cleared (this server has no such type)\n',
      stderr: '',
    });
    expect(await t.env.sql`select type from rate_limits where override_max is not null and type in (${free.name}, 'gone.type')`).toEqual([]);
    await t.env.sql`delete from rate_limits where type in (${free.name}, 'gone.type')`;
  });

  it('refuses a type without a rate limit in code, and bad usage', async () => {
    const unlimited = await cli('rate-limit', free.name, '5/1000');
    expect(unlimited.code).toBe(2);
    expect(unlimited.stderr).toMatch(/^error INVALID_STATE type: test\.free has no rateLimit in its definition/);
    for (const args of [[limited.name], [limited.name, '5/1000', '--clear'], [limited.name, '--clear', '--burst', '2'], [limited.name, '5']]) {
      const r = await cli('rate-limit', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^longrun: (rate-limit|--burst)/);
    }
    const tooMuch = await cli('rate-limit', limited.name, '5/1000', '--burst', '6');
    expect(tooMuch).toMatchObject({ code: 2, stdout: '' });
    expect(tooMuch.stderr).toMatch(/^error OUT_OF_RANGE rateLimit\.burst: burst must be from 1 to max \(5\)\n$/);
  });
});
