import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { Keys } from './keys.js';
import type { Scripts, SlideHit } from './scripts.js';

/** One fixed window of a counter: its Redis key (`<key>:<window number>`) and when it ends. */
export interface RateWindow {
  key: string;
  now: number;
  end: number;
}

/** The answer to one counted hit of a fixed window. */
export interface RateHit {
  /** False once the window's count is over `max`. */
  allowed: boolean;
  count: number;
  /** Milliseconds until the window ends. */
  retryAfterMs: number;
}

/** The answer to one hit on a person's command limit. */
export type CommandHit = SlideHit;

export interface RateLimits {
  /** The current fixed window of the counter at `key` (for a script that counts in the same call). */
  window(key: string, windowMs: number): RateWindow;
  /**
   * Counts one hit on `key` in fixed windows of `windowMs` of the injected clock, shared by every
   * replica (one Redis counter per window, kept two windows long). Intake's limits: a sender's
   * retry-after is the window's end.
   */
  hit(key: string, max: number, windowMs: number): Promise<RateHit>;
  /** An intake integration's counter (the key name stays in store/). */
  integration(name: string): string;
  /**
   * One command of a person, on a sliding window: at most `max` in any `windowMs` of the injected
   * clock, however they fall around a minute's boundary (fixed windows let 2 × max through across
   * one). Shared by every replica, in one script call.
   */
  commandHit(telegramId: number, max: number, windowMs: number): Promise<CommandHit>;
}

export function createRateLimits(deps: {
  redis: Redis;
  clock: Clock;
  keys: Keys;
  scripts: Pick<Scripts, 'rateSlide'>;
}): RateLimits {
  const { redis, clock, keys, scripts } = deps;
  function window(key: string, windowMs: number): RateWindow {
    const now = clock.now();
    const n = Math.floor(now / windowMs);
    return { key: `${key}:${n}`, now, end: (n + 1) * windowMs };
  }
  return {
    window,
    integration: (name) => keys.rate(name),
    async hit(key, max, windowMs) {
      const w = window(key, windowMs);
      // the count and its expiry in one transaction: a counter is never left without one
      const res = await redis
        .multi()
        .incr(w.key)
        .pexpire(w.key, windowMs * 2)
        .exec();
      const count = Number(res?.[0]?.[1]);
      return { allowed: count <= max, count, retryAfterMs: w.end - w.now };
    },
    commandHit: (telegramId, max, windowMs) =>
      scripts.rateSlide({
        log: keys.commandRate(telegramId),
        warned: keys.commandRateWarned(telegramId),
        now: clock.now(),
        max,
        windowMs,
        hitId: randomUUID(),
      }),
  };
}
