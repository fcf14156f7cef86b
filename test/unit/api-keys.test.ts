/** Key format, hashing and the Authorization header parsing (src/auth/keys.ts). */
import { describe, expect, it } from 'vitest';
import { bearerKey, generateKey, hashKey, keyId, keyMatches } from '../../src/auth/keys.js';
import { authorizationParam } from '../../src/auth/authenticate.js';
import { checkJson } from '../../src/jobs/payload-check.js';

describe('API keys', () => {
  it('start with their id; only the hash identifies them', () => {
    const k = generateKey();
    expect(keyId(k.key)).toBe(k.id);
    expect(k.keyHash).toBe(hashKey(k.key));
    expect(k.keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(keyMatches(k.key, k.keyHash)).toBe(true);
    expect(keyMatches(k.key + 'x', k.keyHash)).toBe(false);
    expect(keyMatches(k.key, 'nothex')).toBe(false);
    expect(generateKey().key).not.toBe(k.key);
  });
  it('malformed keys have no id', () => {
    for (const bad of ['', 'lr_', 'lr_0123456789abcdef_short', 'xx_0123456789abcdef_' + 'A'.repeat(43), 'lr_0123456789ABCDEF_' + 'A'.repeat(43)]) {
      expect(keyId(bad)).toBeNull();
    }
  });
  it('reads `Bearer <key>` in any letter case, and the connectionParams key in any letter case', () => {
    expect(bearerKey('Bearer abc')).toBe('abc');
    expect(bearerKey('bearer   abc ')).toBe('abc');
    expect(bearerKey('Basic abc')).toBeNull();
    expect(bearerKey('Bearer a b')).toBeNull();
    expect(bearerKey(undefined)).toBeNull();
    expect(bearerKey(['Bearer abc'])).toBeNull();
    expect(authorizationParam({ AuthoriZation: 'Bearer x' })).toBe('Bearer x');
    expect(authorizationParam(undefined)).toBeUndefined();
  });
});

describe('payload checks', () => {
  it('refuses what PostgreSQL cannot store and nesting past the limit', () => {
    expect(checkJson({ a: ['ok', { b: 'é😀' }] })).toBe('ok');
    expect(checkJson({ a: 'x\u0000' })).toBe('unstorable');
    expect(checkJson({ ['k\u0000']: 1 })).toBe('unstorable');
    expect(checkJson(['\ud800'])).toBe('unstorable');
    expect(checkJson('\udc00x')).toBe('unstorable');
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(checkJson(deep)).toBe('too-deep');
    expect(checkJson([[1]], 2)).toBe('ok');
    expect(checkJson([[[1]]], 2)).toBe('too-deep');
  });
});
