import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { createWorkerLoop } from '../loop.js';
import type { Metrics } from '../metrics.js';
import type { Keys } from '../store/keys.js';
import type { Scripts } from '../store/scripts.js';

export interface TimerData {
  kind: string;
  due?: number;
  [k: string]: unknown;
}

/** Handles one fired timer. It must settle the timer through apply_effects (`once` + `release`). */
export type TimerHandler = (id: string, data: TimerData) => Promise<void>;

/**
 * Durable timers in a Redis sorted set. Any number of replicas may poll; timer_claim.lua hands each
 * due timer to one of them, and handlers fire through a once-marker, so each timer acts exactly once
 * even across crashes (a claimed timer whose worker died becomes due again after its lease).
 */
export function createTimerService(deps: {
  scripts: Scripts;
  keys: Keys;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Renews the leases of timers still firing (optional: without it a lease is never renewed). */
  redis?: Redis;
  leaseMs?: number;
  /** Timers fired at once by this replica (claims never exceed the free room). */
  concurrency?: number;
}) {
  const { scripts, keys, clock, logger, metrics } = deps;
  const handlers = new Map<string, TimerHandler>();
  const lease = deps.leaseMs ?? 5_000;

  const concurrency = deps.concurrency ?? 64;

  async function fire(id: string, data: TimerData): Promise<boolean> {
    const h = handlers.get(data.kind);
    if (data.due) metrics.timerDelay.observe(Math.max(0, clock.now() - data.due) / 1000);
    if (!h) {
      logger.warn({ id, kind: data.kind }, 'no handler for timer kind');
      return false;
    }
    try {
      await h(id, data);
      return true;
    } catch (e) {
      logger.error(
        { id, err: (e as Error).message },
        'timer handler failed; it will be retried after its lease',
      );
      return false;
    }
  }

  /**
   * Claims and fires every due timer; returns ms until the next one (-1 when none). Timers fire in a
   * pool of `concurrency`, and the pool claims only what it has room for, so a claimed timer starts at
   * once and its lease covers its own handler, never a queue behind others (a claim that outlived its
   * lease would be claimed again by another replica). Leases of timers still firing here are renewed.
   */
  async function runDue(): Promise<{ fired: number; nextInMs: number }> {
    let fired = 0;
    let nextInMs = -1;
    let more = true;
    const running = new Map<string, Promise<void>>();
    let renewedAt = clock.now();
    for (;;) {
      if (running.size && clock.now() - renewedAt >= lease / 3) {
        renewedAt = clock.now();
        const args: (string | number)[] = [];
        for (const id of running.keys()) args.push(renewedAt + lease, id);
        // XX: only timers still in flight (a settled one is gone); GT: never shorten a longer hold
        await deps.redis?.zadd(keys.timerInflight(), 'XX', 'GT', ...args);
      }
      const room = concurrency - running.size;
      // refill when half the pool is free: a few claims per batch, not one per finished timer
      if (more && room >= Math.max(1, concurrency >> 1)) {
        const r = await scripts.timerClaim({ now: clock.now(), leaseMs: lease, max: room });
        nextInMs = r.nextInMs;
        const pairs = r.timers.length;
        for (const t of r.timers) {
          const id = t.id;
          const data = JSON.parse(t.data) as TimerData;
          // claimed timers are disjoint and every handler settles through an atomic script
          const p = fire(id, data).then((ok) => {
            if (ok) fired++;
            running.delete(id);
          });
          running.set(id, p);
        }
        if (pairs < room) more = false;
        continue;
      }
      if (running.size === 0) return { fired, nextInMs };
      await Promise.race(running.values());
    }
  }

  let pollMs = 200;
  const worker = createWorkerLoop(
    'timer',
    async () => {
      const r = await runDue();
      return r.nextInMs >= 0 ? Math.min(pollMs, Math.max(1, r.nextInMs)) : pollMs;
    },
    logger,
  );

  return {
    /** How long a claim lasts (ms of the clock) unless renewed. */
    leaseMs: lease,
    register(kind: string, handler: TimerHandler) {
      handlers.set(kind, handler);
    },
    runDue,
    notify: worker.notify,
    start(ms = 200) {
      pollMs = ms;
      worker.start();
    },
    stop: worker.stop,
  };
}

export type TimerService = ReturnType<typeof createTimerService>;
