/** How the notifier shares its slots out between receivers (pure). */
import { describe, expect, it } from 'vitest';
import { MAX_LINE_MS, receiverOf, receiverShares } from '../../src/notifications/receiver-shares.js';

const id = '00000000-0000-4000-8000-000000000000';

describe('receiverShares', () => {
  it('lets a receiver use every slot but one while its sends go through, and one once a send failed', () => {
    const s = receiverShares(4);
    expect([s.take('a'), s.take('a'), s.take('a'), s.take('a')]).toEqual([true, true, true, false]);
    expect(s.take('b')).toBe(true);
    s.release('a', false, 100); // a send to a failed: a keeps its two open sends, and gets no more
    expect([s.failing('a'), s.failing('b')]).toEqual([true, false]);
    s.release('a', null, 0);
    expect(s.take('a')).toBe(false);
    s.release('a', null, 0);
    expect([s.take('a'), s.take('a')]).toEqual([true, false]);
    s.release('a', true, 100); // it answers again: its full share back
    expect([s.take('a'), s.take('a'), s.take('a'), s.take('a')]).toEqual([true, true, true, false]);
  });

  it('sends a busy receiver\'s deliveries round in a line spaced by its pace, once a send to it went through', () => {
    const s = receiverShares(3); // a share of 2 slots
    expect(s.nextInLine('a', 0)).toBeNull();
    s.take('a');
    s.release('a', true, 1000); // a send held a slot 1 s: the share takes 2 a second
    expect([1, 2, 3].map(() => s.nextInLine('a', 0))).toEqual([500, 1000, 1500]);
    expect(s.nextInLine('a', 1200)).toBe(800); // the line goes on from where it ends, counted from now
    expect(s.nextInLine('a', 10_000)).toBe(500); // a line that has come round starts again from now
    s.take('a');
    s.release('a', true, 2000); // slower: the gaps grow with the moving average (0.8 × 1000 + 0.2 × 2000)
    expect(s.nextInLine('a', 10_000)).toBe(1100);
    for (let i = 0; i < 5000; i++) s.nextInLine('a', 10_000);
    expect(s.nextInLine('a', 10_000)).toBe(MAX_LINE_MS); // never further ahead than that
    expect(s.nextInLine('b', 0)).toBeNull();
  });

  it('names a webhook receiver by host and port, every email by the SMTP server', () => {
    expect(receiverOf({ deliveryId: id, channel: 'WEBHOOK', target: 'https://hooks.example.com/a?x=1' })).toBe('webhook hooks.example.com');
    expect(receiverOf({ deliveryId: id, channel: 'WEBHOOK', target: 'http://10.0.0.1:8080/b' })).toBe('webhook 10.0.0.1:8080');
    expect(receiverOf({ deliveryId: id, channel: 'EMAIL', target: 'ops@example.com' })).toBe('smtp');
    expect(receiverOf({ deliveryId: id })).toBeNull();
  });
});
