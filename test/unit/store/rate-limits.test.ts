import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/clock.js';
import { createKeys } from '../../../src/store/keys.js';
import { createRateLimits } from '../../../src/store/rate-limits.js';
import { createScripts } from '../../../src/store/scripts.js';
import { REDIS_URL, dropPrefix, freshPrefix } from '../../helpers/redis.js';

const prefix = freshPrefix('rate-limits');
const redis = new Redis(REDIS_URL);
const keys = createKeys(prefix);
const scripts = createScripts(redis, keys);
afterAll(async () => {
  await dropPrefix(prefix);
  redis.disconnect();
});

describe('store/rate-limits', () => {
  it('counts hits per fixed window of the clock, refuses over max, starts again in the next window', async () => {
    const clock = new FakeClock(60_000 * 1000 + 15_000); // 15 s into a one-minute window
    const rates = createRateLimits({ redis, clock, keys, scripts });
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

  it('the fixed-window counter always carries its expiry', async () => {
    const clock = new FakeClock(60_000 * 2000);
    const rates = createRateLimits({ redis, clock, keys, scripts });
    const key = `${prefix}rate:exp`;
    for (let i = 0; i < 3; i++) await rates.hit(key, 5, 60_000);
    const ttl = await redis.pttl(rates.window(key, 60_000).key);
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });

  it("a person's commands: at most max in any sliding minute, across a minute's boundary too", async () => {
    // 10 s before a minute ends: fixed windows would let 3 more through 20 s later
    const clock = new FakeClock(Date.parse('2026-03-02T10:00:50Z'));
    const rates = createRateLimits({ redis, clock, keys, scripts });
    const hits = [];
    for (let i = 0; i < 5; i++) hits.push(await rates.commandHit(7001, 3, 60_000));
    expect(hits).toEqual([
      { allowed: true, firstRefusal: false, retryAfterMs: 0 },
      { allowed: true, firstRefusal: false, retryAfterMs: 0 },
      { allowed: true, firstRefusal: false, retryAfterMs: 0 },
      { allowed: false, firstRefusal: true, retryAfterMs: 60_000 },
      { allowed: false, firstRefusal: false, retryAfterMs: 60_000 },
    ]);
    clock.advance(20_000); // 10:01:10: a new fixed minute, but the three are 20 s old
    expect(await rates.commandHit(7001, 3, 60_000)).toEqual({
      allowed: false,
      firstRefusal: false,
      retryAfterMs: 40_000,
    });
    // refused hits are not recorded: the log holds the three allowed ones, kept a window long
    const log = keys.commandRate(7001);
    expect(await redis.zcard(log)).toBe(3);
    expect(await redis.pttl(log)).toBeLessThanOrEqual(60_000);
    clock.advance(40_000); // the three are a minute old
    const again = [];
    for (let i = 0; i < 4; i++) again.push(await rates.commandHit(7001, 3, 60_000));
    // a new wait: its first refusal is answered again
    expect(again.map((h) => [h.allowed, h.firstRefusal])).toEqual([
      [true, false],
      [true, false],
      [true, false],
      [false, true],
    ]);
    // someone else has a limit of their own
    expect((await rates.commandHit(7002, 3, 60_000)).allowed).toBe(true);
  });

  it('matches an exact sliding-window count for any sequence of hits (fast-check)', async () => {
    let person = 8000;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 1, maxLength: 40 }),
        async (max, gaps) => {
          const id = person++;
          const clock = new FakeClock(Date.parse('2026-03-02T10:00:00Z'));
          const rates = createRateLimits({ redis, clock, keys, scripts });
          const allowed: number[] = [];
          let waiting = false;
          for (const gap of gaps) {
            clock.advance(gap);
            const now = clock.now();
            const inWindow = allowed.filter((t) => t > now - 60_000);
            const hit = await rates.commandHit(id, max, 60_000);
            expect(hit.allowed).toBe(inWindow.length < max);
            if (hit.allowed) {
              allowed.push(now);
              waiting = false;
            } else {
              expect(hit.retryAfterMs).toBe(inWindow[0]! + 60_000 - now);
              // one polite answer per wait: the first refusal since the last allowed hit (or
              // since the previous wait ran out)
              expect(hit.firstRefusal).toBe(!waiting);
              waiting = true;
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
