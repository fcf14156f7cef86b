/**
 * A client's endpoints are checked when it is made: a URL without its scheme (`localhost:4000/graphql`),
 * with another scheme or with a #fragment throws a TypeError from createClient. The WebSocket library throws
 * on such a URL inside graphql-ws at the first watch, where nothing catches it: the process ended with an
 * uncaught exception.
 */
import { expect, it } from 'vitest';
import { createClient } from '../../sdk/index.js';

it('throws a TypeError from createClient for an endpoint it cannot use, instead of ending the process at the first watch', () => {
  expect(() => createClient({ url: 'localhost:4000/graphql' })).toThrow(
    new TypeError('createClient: url: "localhost:4000/graphql" is not an http:// or https:// URL (such as http://localhost:4000/graphql)'),
  );
  expect(() => createClient({ url: 'http://localhost:4000/graphql#jobs' })).toThrow(
    new TypeError('createClient: url: "http://localhost:4000/graphql#jobs" has a #fragment'),
  );
  expect(() => createClient({ url: 'http://localhost:4000/graphql', wsUrl: 'ftp://localhost:4000/graphql' })).toThrow(
    new TypeError('createClient: wsUrl: "ftp://localhost:4000/graphql" is not a ws:// or wss:// URL (such as ws://localhost:4000/graphql)'),
  );
});

it('takes http(s) endpoints, and ws(s) ones for wsUrl', async () => {
  for (const o of [{ url: 'https://api.example.com/graphql' }, { url: 'HTTP://127.0.0.1:9/graphql' }, { url: 'http://127.0.0.1:9/graphql', wsUrl: 'wss://ws.example.com/graphql' }]) {
    await createClient(o).close();
  }
});
