import type { Clock } from '../clock.js';
import type { TimerData, TimerDataOf, TimerKind } from '../domain/timers.js';
import type { Logger } from '../logger.js';
import { createWorkerLoop, STORM_WAKE_GAP_MS } from '../loop.js';
import type { Metrics } from '../metrics.js';
import type { SchedulerStore } from '../store/scheduler.js';

export type { TimerData, TimerDataOf, TimerKind, TimerSpec } from '../domain/timers.js';

/** Handles one fired timer. It must settle the timer through apply_effects (`once` + `release`). */
export type TimerHandler<K extends TimerKind = TimerKind> = (
  id: string,
  data: TimerDataOf<K>,
) => Promise<void>;

/**
 * Handles several fired timers of one kind together (one claim's worth), e.g. in one script call.
 * Each timer must settle through apply_effects (`once` + `release`), as with a TimerHandler; the
 * batch resolves when all are settled and rejects when none may be (they are retried after their
 * lease, and the once-markers of those that did fire stop a second action).
 */
export type TimerBatchHandler<K extends TimerKind = TimerKind> = (
  timers: { id: string; data: TimerDataOf<K> }[],
) => Promise<void>;

/**
 * Durable timers in a Redis sorted set. Any number of replicas may poll; timer_claim.lua hands each
 * due timer to one of them, and handlers fire through a once-marker, so each timer acts exactly once
 * even across crashes (a claimed timer whose worker died becomes due again after its lease).
 */
export function createTimerService(deps: {
  /** Claims due timers and renews leases (a store without a client never renews a lease). */
  store: SchedulerStore;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  leaseMs?: number;
  /**
   * Timers fired at once by this replica (claims never exceed the free room); default 128. Levels
   * claimed together fire in one script call, so a bigger pool pays that call's fixed cost less
   * often when thousands are due at once (10,000 due levels, 3 replicas: p99 ~740 ms with 64,
   * ~660 ms with 128). Webhook sends have their own cap (WEBHOOK_CONCURRENCY).
   */
  concurrency?: number;
}) {
  const { store, clock, logger, metrics } = deps;
  const handlers = new Map<TimerKind, TimerHandler>();
  const batchHandlers = new Map<TimerKind, TimerBatchHandler>();
  const lease = deps.leaseMs ?? 5_000;

  const concurrency = deps.concurrency ?? 128;

  async function fireBatch(kind: TimerKind, batch: { id: string; data: TimerData }[]) {
    const h = batchHandlers.get(kind)!;
    const now = clock.now();
    for (const { data } of batch)
      if (data.due) metrics.timerDelay.observe(Math.max(0, now - data.due) / 1000);
    try {
      await h(batch);
      return true;
    } catch (e) {
      logger.error(
        { ids: batch.map((t) => t.id), err: e },
        'timer batch failed; its timers will be retried after their lease',
      );
      return false;
    }
  }

  async function fire(id: string, data: TimerData): Promise<boolean> {
    // a handler is registered for its own kind only: the data matches its type
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
      logger.error({ id, err: e }, 'timer handler failed; it will be retried after its lease');
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
        await store.renew(running.keys(), renewedAt + lease);
      }
      const room = concurrency - running.size;
      // refill when half the pool is free: a few claims per batch, not one per finished timer
      if (more && room >= Math.max(1, concurrency >> 1)) {
        const claimed = await store.claim(clock.now(), lease, room);
        nextInMs = claimed.nextInMs;
        const pairs = claimed.timers.length;
        const batches = new Map<TimerKind, { id: string; data: TimerData }[]>();
        for (const t of claimed.timers) {
          if (batchHandlers.has(t.data.kind)) {
            const b = batches.get(t.data.kind);
            if (b) b.push(t);
            else batches.set(t.data.kind, [t]);
            continue;
          }
          // claimed timers are disjoint and every handler settles through an atomic script
          const p = fire(t.id, t.data).then((ok) => {
            if (ok) fired++;
            running.delete(t.id);
          });
          running.set(t.id, p);
        }
        // the timers of a kind with a batch handler fire together; each holds its place in the pool
        for (const [kind, batch] of batches) {
          const p = fireBatch(kind, batch).then((ok) => {
            if (ok) fired += batch.length;
            for (const t of batch) running.delete(t.id);
          });
          for (const t of batch) running.set(t.id, p);
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
    // every new incident notifies; in a storm one claim per gap serves them all
    { minWakeGapMs: STORM_WAKE_GAP_MS },
  );

  return {
    /** How long a claim lasts (ms of the clock) unless renewed. */
    leaseMs: lease,
    register<K extends TimerKind>(kind: K, handler: TimerHandler<K>) {
      handlers.set(kind, handler as unknown as TimerHandler);
    },
    /** Fires the timers of `kind` one claim at a time through `handler` (see TimerBatchHandler). */
    registerBatch<K extends TimerKind>(kind: K, handler: TimerBatchHandler<K>) {
      batchHandlers.set(kind, handler as unknown as TimerBatchHandler);
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
