/** Counting the jobs an operation submits, and the per-key token bucket (src/graphql/submit-rate.ts). */
import { getOperationAST, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildSchema } from '../../src/graphql/schema.js';
import { createSubmitRateLimiter, jobsCharged } from '../../src/graphql/submit-rate.js';

const schema = buildSchema();
const count = (query: string, variables: Record<string, unknown> = {}) => {
  const doc = parse(query);
  return jobsCharged(schema, doc, getOperationAST(doc)!, variables);
};

describe('jobsCharged', () => {
  it('counts submitJob fields, submitJobs inputs (literal or variable), through aliases and fragments', () => {
    expect(count('{ jobTypes { name } }')).toBe(0);
    expect(count('mutation { a: submitJob(input: {type: "x"}) { job { id } } b: submitJob(input: {type: "x"}) { job { id } } }')).toBe(2);
    expect(count('mutation { submitJobs(inputs: [{type: "x"}, {type: "y"}, {type: "z"}]) { jobs { id } } }')).toBe(3);
    expect(count('mutation($i: [SubmitJobInput!]!) { submitJobs(inputs: $i) { jobs { id } } }', { i: Array(7).fill({ type: 'x' }) })).toBe(7);
    expect(count('mutation { ...M ... on Mutation { submitJob(input: {type: "x"}) { job { id } } } } fragment M on Mutation { m: submitJob(input: {type: "x"}) { job { id } } }')).toBe(2);
    expect(count('mutation { cancelJob(id: "x") { job { id } } }')).toBe(0);
  });
  it('counts once the fields GraphQL merges (same response name and arguments: they run once)', () => {
    const one = 'a: submitJob(input: $i) { job { id } }';
    expect(count(`mutation($i: SubmitJobInput!) { ${one} ${one} ... on Mutation { ${one} } }`, { i: { type: 'x' } })).toBe(1);
    expect(count(`mutation($i: SubmitJobInput!) { ...M ...M ${one} } fragment M on Mutation { ${one} }`, { i: { type: 'x' } })).toBe(1);
    const batch = 'submitJobs(inputs: $i) { jobs { id } }';
    expect(count(`mutation($i: [SubmitJobInput!]!) { ${batch} ${batch} b: ${batch} }`, { i: Array(3).fill({ type: 'x' }) })).toBe(6);
  });
  it('counts the inputs of a variable\'s default value, and adds up fields past one batch; one field over a batch counts 0 (refused by its size)', () => {
    const five = Array(5).fill('{type: "x"}').join(', ');
    expect(count(`mutation($i: [SubmitJobInput!]! = [${five}]) { submitJobs(inputs: $i) { jobs { id } } }`)).toBe(5);
    expect(count(`mutation($i: [SubmitJobInput!]! = [${five}]) { submitJobs(inputs: $i) { jobs { id } } }`, { i: [{ type: 'x' }] })).toBe(1);
    const twice = 'mutation($i: [SubmitJobInput!]!) { a: submitJobs(inputs: $i) { jobs { id } } b: submitJobs(inputs: $i) { jobs { id } } }';
    expect(count(twice, { i: Array(600).fill({ type: 'x' }) })).toBe(1200);
    expect(count('mutation($i: [SubmitJobInput!]!) { submitJobs(inputs: $i) { jobs { id } } }', { i: Array(1001).fill({ type: 'x' }) })).toBe(0);
  });
  it('counts nothing for a field or fragment that @skip or @include leaves out (it runs no resolver)', () => {
    const one = (directive = '') => `submitJob(input: {type: "x"}) ${directive} { job { id } }`;
    expect(count(`mutation { a: ${one('@skip(if: true)')} b: ${one('@include(if: false)')} c: ${one('@skip(if: false)')} }`)).toBe(1);
    expect(count(`mutation($s: Boolean!) { ${one('@skip(if: $s)')} }`, { s: true })).toBe(0);
    expect(count(`mutation($s: Boolean!) { ${one('@skip(if: $s)')} }`, { s: false })).toBe(1);
    expect(count(`mutation($s: Boolean = true) { ${one('@skip(if: $s)')} }`)).toBe(0);
    expect(count(`mutation($s: Boolean = true) { ${one('@skip(if: $s)')} }`, { s: null })).toBe(0); // refused whole: runs nothing
    const fragments = `mutation($i: Boolean!) { ... on Mutation @include(if: $i) { ${one()} } ...M @include(if: $i) } fragment M on Mutation { m: ${one()} }`;
    expect(count(fragments, { i: false })).toBe(0);
    expect(count(fragments, { i: true })).toBe(2);
  });
});

describe('createSubmitRateLimiter', () => {
  it('allows the burst, then refills at the rate; refuses with retryAfter and remaining, and takes nothing', () => {
    let now = 0;
    const limiter = createSubmitRateLimiter({ perSecond: 2, burst: 4 }, () => now);
    limiter.take('k', 3);
    expect(() => limiter.take('k', 2)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', extensions: { retryAfter: 1, remaining: 1 } }));
    limiter.take('k', 1); // the refused take consumed nothing
    expect(() => limiter.take('k', 1)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', extensions: { retryAfter: 1, remaining: 0 } }));
    limiter.take('other', 4); // keys are separate
    now = 1000;
    limiter.take('k', 2);
    expect(() => limiter.take('k', 5)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', extensions: { retryAfter: null, limit: 4, remaining: 0 } }));
  });
  it('remaining counts whole jobs: an operation of that many passes next', () => {
    let now = 0;
    const limiter = createSubmitRateLimiter({ perSecond: 2, burst: 4 }, () => now);
    limiter.take('k', 4);
    now = 1250; // 2.5 tokens
    expect(() => limiter.take('k', 3)).toThrow(expect.objectContaining({ extensions: { retryAfter: 1, remaining: 2 } }));
    expect(limiter.take('k', 2)).toBe(2);
    expect(() => limiter.take('k', 1)).toThrow(expect.objectContaining({ extensions: { retryAfter: 1, remaining: 0 } }));
    expect(() => limiter.take('k', 9)).toThrow(expect.objectContaining({ extensions: { retryAfter: null, limit: 4, remaining: 0 } }));
    expect(() => limiter.take('k', 1200)).toThrow(expect.objectContaining({ extensions: { retryAfter: null, limit: 4, remaining: 0 } }));
  });
  it('perSecond 0 means unlimited', () => {
    const limiter = createSubmitRateLimiter({ perSecond: 0, burst: 1 });
    for (let i = 0; i < 100; i++) limiter.take('k', 1000);
  });
});
