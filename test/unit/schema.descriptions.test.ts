/**
 * Every type, field, argument, input field and enum value of the public schema (schema/*.graphql) has a
 * description: they are the docs GraphiQL shows.
 */
import { parse } from 'graphql';
import { expect, it } from 'vitest';
import { loadTypeDefs } from '../../src/graphql/schema.js';

interface Described {
  name?: { value: string };
  description?: { value: string };
  fields?: readonly Described[];
  arguments?: readonly Described[];
  values?: readonly Described[];
}

it('describes every type, field, argument, input field and enum value', () => {
  const missing: string[] = [];
  const need = (what: string, node: Described) => {
    if (!node.description?.value.trim()) missing.push(what);
  };
  for (const sdl of loadTypeDefs()) {
    for (const def of parse(sdl).definitions as readonly (Described & { kind: string })[]) {
      if (!def.name) continue;
      const type = def.name.value;
      // An extension (`extend type Job`) cannot carry a description; its fields still must.
      if (!def.kind.endsWith('Extension')) need(type, def);
      for (const field of [...(def.fields ?? []), ...(def.values ?? [])]) {
        need(`${type}.${field.name!.value}`, field);
        for (const arg of field.arguments ?? []) need(`${type}.${field.name!.value}(${arg.name!.value})`, arg);
      }
    }
  }
  expect(missing).toEqual([]);
});
