/**
 * `jsonBytes`: the UTF-8 length of a JSON value's text, counted without writing it, and no further than its
 * limit: a value written many times over (one GraphQL variable in every input) is not walked copy by copy.
 */
import { describe, expect, it } from 'vitest';
import { jsonBytes } from '../../src/jobs/payload-check.js';

const written = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

describe('jsonBytes', () => {
  it('is the length of JSON.stringify in UTF-8 bytes', () => {
    const values: unknown[] = [
      null, true, false, 0, -0, 1.5, -12e-7, 1e21, Infinity, '', 'a"b\\c\n\u0001', 'é', '😀', 'π\u2028',
      [], {}, [[]], [{}], [1, 'two', null, [3, [4]]], { a: 1, 'é"': { b: [true, { c: '' }] }, 10: 'x', '': [] },
      JSON.parse('{"deep":' + '['.repeat(60) + ']'.repeat(60) + '}'),
      // An absent GraphQL variable in a literal reads as undefined: left out of an object, null in a list.
      { a: undefined, b: 1 }, { a: undefined }, [undefined, 2], { c: [undefined, { d: undefined }] },
    ];
    for (const v of values) expect([v, jsonBytes(v, Infinity)]).toEqual([v, written(v)]);
  });

  it('counts a shared part once per place it is written, and stops past its limit', () => {
    const big = { pad: 'x'.repeat(100 * 1024) };
    const many = Array(1_000_000).fill(big); // 100 GB written out
    expect(jsonBytes(Array(3).fill(big), Infinity)).toBe(written(Array(3).fill(big)));
    const n = jsonBytes(many, 2 * 1024 * 1024);
    expect(n).toBeGreaterThan(2 * 1024 * 1024);
    expect(n).toBeLessThan(3 * 1024 * 1024); // stopped past the limit, not 100 GB later
  });

  it('at its limit exactly, is still exact', () => {
    const v = { a: ['x'.repeat(1000)] };
    expect(jsonBytes(v, written(v))).toBe(written(v));
  });
});
