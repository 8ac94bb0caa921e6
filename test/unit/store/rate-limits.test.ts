import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/clock.js';
import { createKeys } from '../../../src/store/keys.js';
import { createRateLimits } from '../../../src/store/rate-limits.js';
import { REDIS_URL, dropPrefix, freshPrefix } from '../../helpers/redis.js';

const prefix = freshPrefix('rate-limits');
const redis = new Redis(REDIS_URL);
afterAll(async () => {
  await dropPrefix(prefix);
  redis.disconnect();
});

describe('store/rate-limits', () => {
  it('counts hits per fixed window of the clock, refuses over max, starts again in the next window', async () => {
    const clock = new FakeClock(60_000 * 1000 + 15_000); // 15 s into a one-minute window
    const rates = createRateLimits({ redis, clock, keys: createKeys(prefix) });
    const key = `${prefix}rate:ci`;
    const hits = [];
    for (let i = 0; i < 3; i++) hits.push(await rates.hit(key, 2, 60_000));
    expect(hits.map((h) => [h.allowed, h.count])).toEqual([
      [true, 1],
      [true, 2],
      [false, 3],
    ]);
    expect(hits[2]!.retryAfterMs).toBe(45_000);
    // the counter is `<key>:<window>`, kept two windows long
    const w = rates.window(key, 60_000);
    expect(w).toEqual({ key: `${key}:1000`, now: clock.now(), end: 60_000 * 1001 });
    expect(await redis.get(w.key)).toBe('3');
    const ttl = await redis.pttl(w.key);
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
    clock.advance(45_000);
    expect(await rates.hit(key, 2, 60_000)).toEqual({
      allowed: true,
      count: 1,
      retryAfterMs: 60_000,
    });
  });
});
