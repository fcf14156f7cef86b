/**
 * The URL an API process prints at start ("GraphiQL: …", and `App.url`) is one a browser or client can open,
 * for an IPv6 listen address (`HOST=::1`) too, which a URL writes in brackets.
 */
import { expect, it } from 'vitest';
import { createTestEnv } from '../support/app.js';
import { spawnApi } from '../support/processes.js';
import { useFixture } from '../support/fixture.js';

const s = useFixture(async (later) => {
  const env = await createTestEnv();
  later(() => env.dispose());
  return { env };
});

it('prints an address in brackets for an IPv6 HOST, and it answers', async () => {
  const api = await spawnApi({ ...s.env.env, HOST: '::1' });
  try {
    expect(api.url).toMatch(/^http:\/\/\[::1\]:\d+\/graphql$/);
    const res = await fetch(new URL('/healthz', api.url));
    expect(await res.json()).toEqual({ status: 'ok' });
  } finally {
    await api.kill('SIGTERM');
  }
});
