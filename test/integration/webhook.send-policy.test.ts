/**
 * The address policy holds at send time too: a literal loopback address, or a name that resolves to one, is
 * refused before any connection (permanently: no retry), unless private addresses are allowed; so is an IPv6
 * address that carries one (NAT64: on an IPv6-only network the gateway would connect to it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryAttempt } from '../../src/db/notifications.js';
import { isDeliveryError, sendWebhook } from '../../src/notifications/webhook.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

const delivery = (target: string): DeliveryAttempt => ({
  id: '6f1c1a5e-8d0f-4c53-9b57-0a1b2c3d4e5f',
  notificationId: 1,
  jobId: '0e0c7f43-1c1e-4f8e-8f3e-2b7d9f0a1b2c',
  series: 1,
  jobState: 'SUCCEEDED',
  status: 'PENDING',
  attempts: 1,
  lastError: null,
  nextAttemptAt: null,
  requeues: 0,
  body: { id: 'x', type: 'demo.sleep', state: 'SUCCEEDED', attempts: 1 },
  createdAt: new Date(),
  updatedAt: new Date(),
  finishedAt: null,
  channel: 'WEBHOOK',
  target,
  owner: 'anonymous',
});
const options = (allowPrivate: boolean) => ({ signing: { scope: 'server' as const, server: { secret: 'send-policy-secret-012345' } }, timeoutMs: 2000, policy: { allowedHosts: [], allowPrivate } });

describe('webhook address policy at send time', () => {
  it('refuses loopback by literal address and by name, permanently, without connecting', async () => {
    const port = new URL(receiver.url).port;
    for (const target of [`http://127.0.0.1:${port}/p`, `http://localhost:${port}/p`]) {
      const err = await sendWebhook(delivery(target), options(false), null).catch((e: unknown) => e);
      expect(isDeliveryError(err) && err.permanent, target).toBe(true);
      expect(String((err as Error).message)).toMatch(/refused/);
    }
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses a NAT64 address of a loopback or metadata address, permanently, without connecting', async () => {
    const port = new URL(receiver.url).port;
    for (const target of [`http://[64:ff9b::7f00:1]:${port}/p`, `http://[64:ff9b::a9fe:a9fe]:${port}/p`]) {
      const err = await sendWebhook(delivery(target), options(false), null).catch((e: unknown) => e);
      expect(isDeliveryError(err) && err.permanent, `${target}: ${String(err)}`).toBe(true);
      expect(String((err as Error).message)).toMatch(/refused: .* in IPv6 \(NAT64/);
    }
    expect(receiver.requests).toHaveLength(0);
  });

  it('refuses a host taken off WEBHOOK_ALLOWED_HOSTS since the submit, permanently, without connecting', async () => {
    const target = `http://localhost:${new URL(receiver.url).port}/p`;
    const narrowed = { ...options(true), policy: { allowedHosts: ['hooks.example.com'], allowPrivate: true } };
    const err = await sendWebhook(delivery(target), narrowed, null).catch((e: unknown) => e);
    expect(isDeliveryError(err) && err.permanent).toBe(true);
    expect(String((err as Error).message)).toBe("webhook host localhost is not in the server's allow-list");
    expect(receiver.requests).toHaveLength(0);
    // Still on the list: sent.
    const listed = { ...options(true), policy: { allowedHosts: ['localhost'], allowPrivate: true } };
    await sendWebhook(delivery(target), listed, null);
    expect(receiver.requests).toHaveLength(1);
    receiver.requests.length = 0;
  });

  it('sends when private addresses are allowed', async () => {
    await sendWebhook(delivery(`${receiver.url}/p`), options(true), null);
    expect(receiver.requests).toHaveLength(1);
  });
});
