/**
 * Group commit (src/db/group-commit.ts): what each caller gets back when calls are written together.
 */
import { expect, it } from 'vitest';
import { groupCommit } from '../../src/db/group-commit.js';

it('writes a lone call at once, then everything that queued meanwhile as one batch, each caller getting its own result', async () => {
  const batches: number[][] = [];
  const double = groupCommit(async (xs: number[]) => {
    batches.push(xs);
    await new Promise((r) => setTimeout(r, 20));
    return xs.map((x) => x * 2);
  }, { maxSize: 100 });
  const results = await Promise.all([1, 2, 3, 4, 5].map((x) => double(x)));
  expect(results).toEqual([2, 4, 6, 8, 10]);
  expect(batches).toEqual([[1], [2, 3, 4, 5]]);
});

it('keeps batches within maxSize, counting each call by sizeOf', async () => {
  const batches: string[][][] = [];
  const write = groupCommit(async (calls: string[][]) => {
    batches.push(calls);
    await new Promise((r) => setTimeout(r, 5));
    return calls.map((c) => c.length);
  }, { maxSize: 4, sizeOf: (c) => c.length });
  const calls = [['a'], ['b', 'c'], ['d', 'e'], ['f'], ['g', 'h', 'i', 'j', 'k']];
  expect(await Promise.all(calls.map((c) => write(c)))).toEqual([1, 2, 2, 1, 5]);
  // A call larger than maxSize still goes, alone.
  expect(batches).toEqual([[['a']], [['b', 'c'], ['d', 'e']], [['f']], [['g', 'h', 'i', 'j', 'k']]]);
});

it('fails every call of a failed batch, and writes the calls after it', async () => {
  let n = 0;
  const write = groupCommit(async (xs: number[]) => {
    await new Promise((r) => setTimeout(r, 5));
    if (n++ === 1) throw new Error('connection lost');
    return xs;
  }, { maxSize: 2 });
  const settled = await Promise.allSettled([1, 2, 3, 4].map((x) => write(x)));
  expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
  expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(Error);
  expect(await write(5)).toBe(5);
});

it('with gather, writes the calls of one burst together, even the first one (which otherwise goes alone)', async () => {
  const batches: number[][] = [];
  const write = (gather: boolean) =>
    groupCommit(async (xs: number[]) => {
      batches.push(xs);
      await new Promise((r) => setTimeout(r, 5));
      return xs;
    }, { maxSize: 100, gather });
  const gathered = write(true);
  expect(await Promise.all([1, 2, 3].map((x) => gathered(x)))).toEqual([1, 2, 3]);
  expect(batches).toEqual([[1, 2, 3]]);
  batches.length = 0;
  const eager = write(false);
  await Promise.all([1, 2, 3].map((x) => eager(x)));
  expect(batches).toEqual([[1], [2, 3]]);
});

it('with `alone`, writes a refused batch again call by call, so only the call that caused it fails', async () => {
  const batches: number[][] = [];
  const write = groupCommit(async (xs: number[]) => {
    batches.push(xs);
    await new Promise((r) => setTimeout(r, 5));
    if (xs.includes(13)) throw new Error('refused');
    return xs.map((x) => x * 2);
  }, { maxSize: 100, alone: (e) => (e as Error).message === 'refused' });
  const results = await Promise.allSettled([1, 2, 13, 4].map((x) => write(x)));
  expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([2, 4, 'refused', 8]);
  expect(batches).toEqual([[1], [2, 13, 4], [2], [13], [4]]);
});
