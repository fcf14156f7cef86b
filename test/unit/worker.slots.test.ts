/**
 * The pool's slot counter (workers/slots.ts): never more holders than its size, waiters served first come
 * first served, a cancelled wait gets no slot; the turnover estimate that sizes the local queue.
 */
import { expect, it, vi } from 'vitest';
import { Slots, Turnover } from '../../workers/slots.js';

it('gives at most `size` slots, then serves waiters in order as slots come back', async () => {
  const slots = new Slots(2);
  expect([slots.tryTake(), slots.tryTake(), slots.tryTake()]).toEqual([true, true, false]);
  const order: string[] = [];
  const a = slots.take();
  const b = slots.take();
  void a.got.then((got) => order.push(`a:${got}`));
  void b.got.then((got) => order.push(`b:${got}`));
  expect(slots.tryTake()).toBe(false); // others are waiting: no jumping the line
  slots.give();
  await Promise.resolve();
  expect(order).toEqual(['a:true']);
  expect(slots.inUse).toBe(2);
  slots.give();
  await Promise.resolve();
  expect(order).toEqual(['a:true', 'b:true']);
  slots.give();
  slots.give();
  expect(slots.inUse).toBe(0);
});

it('a cancelled wait resolves false and takes nothing; cancelling after the slot came is a no-op', async () => {
  const slots = new Slots(1);
  expect(slots.tryTake()).toBe(true);
  const a = slots.take();
  const b = slots.take();
  a.cancel();
  expect(await a.got).toBe(false);
  slots.give();
  expect(await b.got).toBe(true);
  b.cancel();
  expect(slots.inUse).toBe(1);
  expect(slots.tryTake()).toBe(false);
});

it('expects as many slot returns in the next window as came in the last one, and none after a quiet spell', () => {
  vi.useFakeTimers({ now: 0 });
  try {
    const turnover = new Turnover(50);
    expect(turnover.expected()).toBe(0);
    for (let i = 0; i < 30; i++) turnover.note();
    expect(turnover.expected()).toBe(30); // the window is not over, but these all came within it
    vi.advanceTimersByTime(50);
    expect(turnover.expected()).toBe(30);
    for (let i = 0; i < 10; i++) turnover.note();
    expect(turnover.expected()).toBe(30); // the last full window says more than this one so far
    vi.advanceTimersByTime(50);
    expect(turnover.expected()).toBe(10);
    vi.advanceTimersByTime(50);
    expect(turnover.expected()).toBe(0); // nothing came back in the last window
    turnover.note();
    vi.advanceTimersByTime(500);
    expect(turnover.expected()).toBe(0); // a window long past says nothing about now
  } finally {
    vi.useRealTimers();
  }
});
