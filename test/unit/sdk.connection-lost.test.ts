/**
 * A request whose connection is lost after it went out fails with NETWORK saying so, and that the server may
 * have done it (a submit may have made its job): it said `cannot reach <url>`, which reads as nothing done, so
 * a caller (or `longrun submit`) sent it again and made a second job. A server never reached still says
 * `cannot reach`. The stand-in server reads the request, then drops the connection.
 */
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient, LongrunError } from '../../sdk/index.js';

let server: net.Server;
let url: string;
beforeAll(async () => {
  server = net.createServer((s) => s.once('data', () => s.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/graphql`;
});
afterAll(() => new Promise((r) => server.close(r)));

it('says the server may have done a request whose connection was lost before the answer, over node:http and fetch', async () => {
  for (const [transport, code] of [['node:http', 'ECONNRESET'], ['fetch', 'UND_ERR_SOCKET']] as const) {
    const client = createClient({ url, ...(transport === 'fetch' ? { fetch: globalThis.fetch } : {}) });
    try {
      const error = await client.submitJob({ type: 'demo.noop' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LongrunError);
      expect(error).toMatchObject({ code: 'NETWORK', message: `connection to ${url} lost before the answer (${code}): the server may have done it` });
    } finally {
      await client.close();
    }
  }
});

it('says cannot reach for a server that took no connection', async () => {
  const closed = await new Promise<string>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(`http://127.0.0.1:${port}/graphql`));
    });
  });
  const client = createClient({ url: closed });
  try {
    await expect(client.jobTypes()).rejects.toMatchObject({ code: 'NETWORK', message: `cannot reach ${closed}: ECONNREFUSED` });
  } finally {
    await client.close();
  }
});
