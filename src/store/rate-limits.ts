import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { Keys } from './keys.js';

/** One fixed window of a counter: its Redis key (`<key>:<window number>`) and when it ends. */
export interface RateWindow {
  key: string;
  now: number;
  end: number;
}

/** The answer to one counted hit. */
export interface RateHit {
  /** False once the window's count is over `max`. */
  allowed: boolean;
  count: number;
  /** Milliseconds until the window ends. */
  retryAfterMs: number;
}

export interface RateLimits {
  /** The current window of the counter at `key` (for a script that counts in the same call). */
  window(key: string, windowMs: number): RateWindow;
  /**
   * Counts one hit on `key` in fixed windows of `windowMs` of the injected clock, shared by every
   * replica (one Redis counter per window, kept two windows long).
   */
  hit(key: string, max: number, windowMs: number): Promise<RateHit>;
  /** An intake integration's counter (the key name stays in store/). */
  integration(name: string): string;
  /** A person's command counter. */
  person(telegramId: number): string;
}

export function createRateLimits(deps: { redis: Redis; clock: Clock; keys: Keys }): RateLimits {
  const { redis, clock, keys } = deps;
  function window(key: string, windowMs: number): RateWindow {
    const now = clock.now();
    const n = Math.floor(now / windowMs);
    return { key: `${key}:${n}`, now, end: (n + 1) * windowMs };
  }
  return {
    window,
    integration: (name) => keys.rate(name),
    person: (telegramId) => keys.commandRate(telegramId),
    async hit(key, max, windowMs) {
      const w = window(key, windowMs);
      const count = await redis.incr(w.key);
      if (count === 1) await redis.pexpire(w.key, windowMs * 2);
      return { allowed: count <= max, count, retryAfterMs: w.end - w.now };
    },
  };
}
