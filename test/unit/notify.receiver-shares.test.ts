/** How the notifier shares its slots out between receivers (pure). */
import { describe, expect, it } from 'vitest';
import { receiverOf, receiverShares } from '../../src/notifications/receiver-shares.js';

const id = '00000000-0000-4000-8000-000000000000';

describe('receiverShares', () => {
  it('lets a receiver use every slot but one while its sends go through, and one once a send failed', () => {
    const s = receiverShares(4);
    expect([s.take('a'), s.take('a'), s.take('a'), s.take('a')]).toEqual([true, true, true, false]);
    expect(s.take('b')).toBe(true);
    s.release('a', false); // a send to a failed: a keeps its two open sends, and gets no more
    expect([s.failing('a'), s.failing('b')]).toEqual([true, false]);
    s.release('a', null);
    expect(s.take('a')).toBe(false);
    s.release('a', null);
    expect([s.take('a'), s.take('a')]).toEqual([true, false]);
    s.release('a', true); // it answers again: its full share back
    expect([s.take('a'), s.take('a'), s.take('a'), s.take('a')]).toEqual([true, true, true, false]);
  });

  it('names a webhook receiver by host and port, every email by the SMTP server', () => {
    expect(receiverOf({ deliveryId: id, channel: 'WEBHOOK', target: 'https://hooks.example.com/a?x=1' })).toBe('webhook hooks.example.com');
    expect(receiverOf({ deliveryId: id, channel: 'WEBHOOK', target: 'http://10.0.0.1:8080/b' })).toBe('webhook 10.0.0.1:8080');
    expect(receiverOf({ deliveryId: id, channel: 'EMAIL', target: 'ops@example.com' })).toBe('smtp');
    expect(receiverOf({ deliveryId: id })).toBeNull();
  });
});
