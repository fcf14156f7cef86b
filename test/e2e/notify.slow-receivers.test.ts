/**
 * Webhook receivers and SMTP servers that never finish: a send is bounded by WEBHOOK_TIMEOUT_MS from the
 * request to the answer's status, a 2xx status accepts the delivery whatever its body does, and a receiver
 * that trickles forever is given up on and retried as documented, so it never holds a notifier slot for
 * good. The notifier here has one slot: a stalled send would stall every later delivery too. A redirect is
 * not followed, and its error says where it points.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql } from '../support/graphql.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

const SUBMIT = /* GraphQL */ `
  mutation Submit($input: SubmitJobInput!) {
    submitJob(input: $input) { job { id state } userErrors { code field message } }
  }
`;
const NOTIFICATIONS = /* GraphQL */ `
  query Job($id: ID!) { job(id: $id) { id state notifications { id status attempts lastError } } }
`;

/** A receiver that answers each path in its own endless way, a byte every 50 ms (far under the timeout). */
async function startTricklingReceiver() {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests.push(req.url ?? '/');
      const drip = (write: () => void) => {
        const t = setInterval(write, 50);
        res.on('close', () => clearInterval(t));
      };
      if (req.url === '/moved') {
        res.writeHead(301, { location: 'https://hooks.example.com/longrun' }).end();
      } else if (req.url === '/ok-endless') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        drip(() => res.write('.'));
      } else if (req.url === '/error-endless') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        drip(() => res.write('x'));
      } else {
        // /headers-endless: the status line is never completed.
        res.socket!.write('HTTP/1.1 200');
        drip(() => res.socket!.write(' '));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** An SMTP server that greets, accepts the envelope and the message, then drips `250-` lines for ever. */
async function startTricklingSmtp() {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.write('220 trickle ESMTP\r\n');
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString();
      for (let i; (i = buffered.indexOf('\r\n')) >= 0; ) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 2);
        if (/^(EHLO|HELO|MAIL|RCPT)/i.test(line)) socket.write('250 ok\r\n');
        else if (/^DATA/i.test(line)) socket.write('354 go on\r\n');
        else if (line === '.') {
          const drip = setInterval(() => socket.write('250-still thinking\r\n'), 50);
          socket.on('close', () => clearInterval(drip));
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const sockets = new Set<net.Socket>();
  server.on('connection', (c) => (sockets.add(c), c.on('close', () => sockets.delete(c))));
  return {
    url: `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => {
      for (const c of sockets) c.destroy();
      server.close(() => r());
    }),
  };
}

let t: TestApp;
let smtp: Awaited<ReturnType<typeof startTricklingSmtp>>;
let trickle: Awaited<ReturnType<typeof startTricklingReceiver>>;
let receiver: WebhookReceiver;
beforeAll(async () => {
  trickle = await startTricklingReceiver();
  smtp = await startTricklingSmtp();
  receiver = await startWebhookReceiver();
  t = await startTestApp({
    config: {
      WEBHOOK_SECRET: 'test-webhook-secret-0123456789',
      WEBHOOK_ALLOW_PRIVATE: '1',
      SMTP_URL: smtp.url,
      WEBHOOK_TIMEOUT_MS: '2000',
      NOTIFIER_CONCURRENCY: '1',
      NOTIFY_MAX_ATTEMPTS: '2',
      NOTIFY_BACKOFF_MS: '100',
      NOTIFY_BACKOFF_MAX_MS: '200',
    },
  });
});
afterAll(async () => {
  await t?.dispose();
  await trickle?.close();
  await smtp?.close();
  await receiver?.close();
});

async function submitNotifying(url: string, channel: 'webhook' | 'email' = 'webhook'): Promise<string> {
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {}, notify: [{ [channel]: url }] } });
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  return r.body.data.submitJob.job.id;
}

const settled = (id: string) =>
  eventually(async () => {
    const [n] = (await gql(t.url, NOTIFICATIONS, { id })).body.data.job.notifications;
    return n && n.status !== 'PENDING' ? n : undefined;
  }, 60_000, `delivery of ${id} settled`);

describe('receivers that never finish, or send the delivery elsewhere', () => {
  it('accepts a 2xx whose body never ends, sent once', async () => {
    const id = await submitNotifying(`${trickle.url}/ok-endless`);
    expect(await settled(id)).toMatchObject({ status: 'SENT', attempts: 1, lastError: null });
    expect(trickle.requests.filter((p) => p === '/ok-endless')).toHaveLength(1);
  });

  it('retries and dead-letters a non-2xx whose body never ends, with its status as the error', async () => {
    const id = await submitNotifying(`${trickle.url}/error-endless`);
    const n = await settled(id);
    expect(n).toMatchObject({ status: 'FAILED', attempts: 2 });
    expect(n.lastError).toMatch(/^HTTP 500/);
  });

  it('gives up on a receiver that never completes its status line, and the next delivery still goes out', async () => {
    const id = await submitNotifying(`${trickle.url}/headers-endless`);
    const n = await settled(id);
    expect(n).toMatchObject({ status: 'FAILED', attempts: 2 });
    expect(n.lastError).toMatch(/no response within 2000 ms/);

    const next = await submitNotifying(`${receiver.url}/after`);
    expect(await settled(next)).toMatchObject({ status: 'SENT', attempts: 1 });
  });

  it('names where a redirect points in the error (redirects are not followed)', async () => {
    const id = await submitNotifying(`${trickle.url}/moved`);
    const n = await settled(id);
    expect(n).toMatchObject({ status: 'FAILED', attempts: 2 });
    expect(n.lastError).toBe('HTTP 301 (redirect to https://hooks.example.com/longrun, not followed: notify that URL instead)');
  });

  it('gives up on an SMTP server that never finishes answering the message, and the next delivery still goes out', async () => {
    const id = await submitNotifying('ops@example.com', 'email');
    const n = await settled(id);
    expect(n).toMatchObject({ status: 'FAILED', attempts: 2 });
    expect(n.lastError).toBe('SMTP: no answer within 2000 ms');

    const next = await submitNotifying(`${receiver.url}/after-smtp`);
    expect(await settled(next)).toMatchObject({ status: 'SENT', attempts: 1 });
  });
});
