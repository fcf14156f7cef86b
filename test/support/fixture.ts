/**
 * What a test file makes before its tests and removes after them. `make` builds the parts, telling `later`
 * how to remove each as soon as it exists; after the tests they are removed last made first (all of them,
 * also when making stopped half-way or one removal failed). The answer reads the parts once made.
 */
import { afterAll, beforeAll } from 'vitest';

type Removal = () => unknown;

export function useFixture<T extends object>(make: (later: (remove: Removal) => void) => Promise<T>): Readonly<T> {
  let made: T | undefined;
  const removals: Removal[] = [];
  beforeAll(async () => {
    made = await make((remove) => removals.push(remove));
  });
  afterAll(async () => {
    const failures: unknown[] = [];
    for (const remove of removals.reverse()) await Promise.resolve().then(remove).catch((e: unknown) => failures.push(e));
    if (failures.length) throw failures[0];
  });
  return new Proxy({} as T, { get: (_, key) => (made as Record<PropertyKey, unknown> | undefined)?.[key] });
}
