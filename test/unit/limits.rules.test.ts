/**
 * The query-shape rules (src/graphql/limits.ts) on the real schema: what counts toward depth, cost and
 * aliases, and that hostile documents cannot make the check itself expensive.
 */
import { parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { limitRules, type QueryLimits } from '../../src/graphql/limits.js';
import { buildSchema } from '../../src/graphql/schema.js';

const schema = buildSchema();
const limits: QueryLimits = { maxDepth: 4, maxCost: 300, maxAliases: 3, maxTokens: 10_000, introspection: true };
const codes = (query: string, l: QueryLimits = limits) =>
  validate(schema, parse(query), [...specifiedRules, ...limitRules(l)]).map((e) => (e.originalError as { code?: string } | undefined)?.code ?? 'GRAPHQL');

describe('depth', () => {
  it('counts root fields as depth 1, through fragments and inline fragments', () => {
    expect(codes('{ deadLetters(first: 1) { edges { node { id } } } }')).toEqual([]);
    expect(codes('{ deadLetters(first: 1) { edges { node { events(last: 1) { seq } } } } }')).toEqual(['QUERY_TOO_DEEP']);
    expect(codes('{ deadLetters(first: 1) { edges { ...E } } } fragment E on JobEdge { node { ... on Job { events(last: 1) { seq } } } }')).toEqual(['QUERY_TOO_DEEP']);
  });
  it('does not count introspection (GraphiQL nests ofType deeply)', () => {
    expect(codes('{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }')).toEqual([]);
  });
});

describe('cost', () => {
  it('multiplies by the page size a connection asks for (the maximum when it is a variable or absent)', () => {
    expect(codes('{ deadLetters(first: 2) { edges { node { id state } } } }')).toEqual([]); // 1 + 2 + 2 + 4
    expect(codes('query($n: Int) { deadLetters(first: $n) { edges { node { id } } } }')).toEqual(['QUERY_TOO_COSTLY']); // 1 + 100·3
    expect(codes('{ deadLetters { edges { node { id } } } }')).toEqual(['QUERY_TOO_COSTLY']);
  });
  it('multiplies by the page of a job\'s history: first or last as written, 500 when absent or a variable', () => {
    expect(codes('{ job(id: "x") { events(first: 100) { seq state } } }')).toEqual([]); // 1 + 1 + 100·2
    expect(codes('{ job(id: "x") { events(after: 3, last: 100) { seq state } } }')).toEqual([]);
    expect(codes('{ job(id: "x") { events { seq } } }')).toEqual(['QUERY_TOO_COSTLY']); // 1 + 1 + 500
    expect(codes('query($n: Int) { job(id: "x") { events(last: $n) { seq } } }')).toEqual(['QUERY_TOO_COSTLY']);
    expect(codes('{ deadLetters(first: 2) { edges { node { events(last: 20) { seq } } } } }', { ...limits, maxDepth: 10 })).toEqual([]); // 1 + 2·(1 + 1 + 1 + 20)
  });
  it('multiplies a history below the jobs submitJobs answers by their number, not the jobs\' own fields', () => {
    const SDK_SHAPE = 'id type state seq payload progress progressMessage attempts maxAttempts result error createdAt startedAt finishedAt nextAttemptAt';
    expect(codes(`mutation { submitJobs(inputs: []) { jobs { ${SDK_SHAPE} } userErrors { code field message } } }`, { ...limits, maxCost: 30 })).toEqual([]);
    // 1,000 jobs × a page of 1: a thousand history reads in one answer.
    expect(codes('mutation { submitJobs(inputs: []) { jobs { events(first: 1) { seq } } } }')).toEqual(['QUERY_TOO_COSTLY']);
    expect(codes('mutation { submitJobs(inputs: []) { ...P } } fragment P on SubmitJobsPayload { jobs { ... on Job { events(last: 1) { seq } } } }')).toEqual(['QUERY_TOO_COSTLY']);
    expect(codes('mutation { submitJob(input: { type: "t" }) { job { events(first: 100) { seq } } } }')).toEqual([]);
  });
  it('multiplies a history below the jobs retryJobs answers by their number (up to 1,000 per call) too', () => {
    expect(codes('mutation { retryJobs(input: {}) { retried jobs { id state } userErrors { code } } }')).toEqual([]);
    expect(codes('mutation { retryJobs(input: {}) { jobs { events(first: 1) { seq } } } }')).toEqual(['QUERY_TOO_COSTLY']);
    expect(codes('mutation { retryJob(id: "x") { job { events(first: 100) { seq } } } }')).toEqual([]);
  });
  it('counts a repeated field every time (merging does not make it free to check)', () => {
    expect(codes(`{ ${Array(301).fill('__typename').join(' ')} }`)).toEqual(['QUERY_TOO_COSTLY']);
  });
  it('stops early on a fragment bomb', () => {
    const bomb = `{ ...F40 } ${Array.from({ length: 40 }, (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`).join(' ')} fragment F0 on Query { __typename }`;
    expect(codes(bomb, { ...limits, maxDepth: 100 })).toEqual(['QUERY_TOO_COSTLY']); // 2^40 fields (no answer) if it did not stop
  });
  // graphql-js runs every rule even after it reported the unknown fragment or the cycle: a bomb whose
  // fragments hold spreads alone (no field to count) must not expand 2^40 times, on either transport.
  it.each([
    ['ending in an unknown fragment', 'fragment F0 on Query { ...Missing }'],
    ['ending in a cycle', 'fragment F0 on Query { ...F40 }'],
  ])('stops early on a fragment bomb with no fields, %s', (_, last) => {
    const bomb = `{ ...F40 } ${Array.from({ length: 40 }, (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`).join(' ')} ${last}`;
    const found = codes(bomb, { ...limits, maxDepth: 100 });
    expect(found).toContain('QUERY_TOO_COSTLY');
    expect(found).toContain('GRAPHQL');
  });
  it('survives fragment cycles (reported by graphql-js itself)', () => {
    expect(codes('{ ...A } fragment A on Query { __typename ...B } fragment B on Query { ...A }')).toEqual(['GRAPHQL']);
  });
});

describe('aliases', () => {
  it('counts aliased fields where fragments are spread', () => {
    expect(codes('{ a: jobTypes { name } b: __typename c: __typename }')).toEqual([]);
    expect(codes('{ ...F ...F2 } fragment F on Query { a: __typename b: __typename } fragment F2 on Query { c: __typename d: __typename }')).toEqual(['TOO_MANY_ALIASES']);
  });
});

describe('introspection', () => {
  it('is refused when turned off', () => {
    expect(new Set(codes('{ __schema { queryType { name } } }', { ...limits, introspection: false }))).toEqual(new Set(['GRAPHQL']));
    expect(codes('{ __typename }', { ...limits, introspection: false })).toEqual([]);
  });
});
