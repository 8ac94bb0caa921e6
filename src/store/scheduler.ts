import type { Redis } from 'ioredis';
import type { TimerData } from '../domain/timers.js';
import type { Keys } from './keys.js';
import type { Scripts } from './scripts.js';

/**
 * The durable timers' storage: a sorted set of due times, claimed by timer_claim.lua with a lease
 * (an in-flight set), so each due timer goes to one replica at a time.
 */
export function createSchedulerStore(deps: { scripts: Scripts; keys: Keys; redis?: Redis }) {
  const { scripts, keys } = deps;
  return {
    /** Claims up to `max` due timers for `leaseMs`; `nextInMs` is -1 when none is pending. */
    async claim(
      now: number,
      leaseMs: number,
      max: number,
    ): Promise<{ timers: { id: string; data: TimerData }[]; nextInMs: number }> {
      const r = await scripts.timerClaim({ now, leaseMs, max });
      return {
        timers: r.timers.map((t) => ({ id: t.id, data: JSON.parse(t.data) as TimerData })),
        nextInMs: r.nextInMs,
      };
    },
    /** Extends the leases of timers still firing (never shortens one, never revives a settled one). */
    async renew(ids: Iterable<string>, until: number): Promise<void> {
      if (!deps.redis) return;
      const args: (string | number)[] = [];
      for (const id of ids) args.push(until, id);
      if (!args.length) return;
      // XX: only timers still in flight (a settled one is gone); GT: never shorten a longer hold
      await deps.redis.zadd(keys.timerInflight(), 'XX', 'GT', ...args);
    },
  };
}

export type SchedulerStore = ReturnType<typeof createSchedulerStore>;
