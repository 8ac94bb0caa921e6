import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createWorkerLoop } from '../../src/loop.js';

const logger = createLogger('silent');

/** A loop whose ticks are recorded (fake time) and answer `waitMs`; a tick can be held open. */
function recorded(opts: { waitMs: number; gap: number }) {
  const ticks: number[] = [];
  let hold: Promise<void> | undefined;
  const loop = createWorkerLoop(
    'test',
    async () => {
      ticks.push(Date.now());
      if (hold) await hold;
      return opts.waitMs;
    },
    logger,
    { minWakeGapMs: opts.gap, now: () => Date.now() },
  );
  return {
    loop,
    ticks,
    holdNext() {
      let release!: () => void;
      hold = new Promise((r) => (release = r));
      return () => {
        hold = undefined;
        release();
      };
    },
  };
}

describe('worker loop wakes', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a storm of notifications costs one tick per wake gap, not one per notification', async () => {
    const { loop, ticks } = recorded({ waitMs: 250, gap: 20 });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(ticks).toEqual([1_000_000]);
    // 500 notifications over 100 ms (one every 0.2 ms, an alert storm); the last ones are served
    // by the tick at 100 ms
    for (let i = 0; i < 500; i++) {
      loop.notify();
      await vi.advanceTimersByTimeAsync(0.2);
    }
    expect(ticks.map((t) => t - 1_000_000)).toEqual([0, 20, 40, 60, 80, 100]);
    // quiet again: the loop sleeps the tick's own wait
    await vi.advanceTimersByTimeAsync(400);
    expect(ticks.map((t) => t - 1_000_000)).toEqual([0, 20, 40, 60, 80, 100, 350]);
    await loop.stop();
  });

  it('a notification after a quiet spell wakes the loop at once', async () => {
    const { loop, ticks } = recorded({ waitMs: 250, gap: 20 });
    loop.start();
    await vi.advanceTimersByTimeAsync(100);
    loop.notify();
    await vi.advanceTimersByTimeAsync(0);
    expect(ticks.map((t) => t - 1_000_000)).toEqual([0, 100]);
    await loop.stop();
  });

  it('a notification that arrives during a tick is kept: the next tick does not wait 250 ms', async () => {
    const { loop, ticks, holdNext } = recorded({ waitMs: 250, gap: 20 });
    const release = holdNext();
    loop.start();
    await vi.advanceTimersByTimeAsync(5);
    loop.notify(); // the tick is still running
    release();
    await vi.advanceTimersByTimeAsync(30);
    expect(ticks.map((t) => t - 1_000_000)).toEqual([0, 20]);
    await loop.stop();
  });

  it('without a gap, every notification during a sleep wakes the loop at once', async () => {
    const { loop, ticks } = recorded({ waitMs: 250, gap: 0 });
    loop.start();
    await vi.advanceTimersByTimeAsync(10);
    loop.notify();
    await vi.advanceTimersByTimeAsync(10);
    loop.notify();
    await vi.advanceTimersByTimeAsync(0);
    expect(ticks.map((t) => t - 1_000_000)).toEqual([0, 10, 20]);
    await loop.stop();
  });

  it('stop ends a sleep at once and ticks no more', async () => {
    const { loop, ticks } = recorded({ waitMs: 60_000, gap: 20 });
    loop.start();
    await vi.advanceTimersByTimeAsync(0);
    await loop.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(ticks).toHaveLength(1);
  });
});
