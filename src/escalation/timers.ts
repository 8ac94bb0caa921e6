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
  leaseMs?: number;
  /** Timers of one claimed batch fired at once. */
  concurrency?: number;
}) {
  const { scripts, keys, clock, logger, metrics } = deps;
  const handlers = new Map<string, TimerHandler>();
  const lease = deps.leaseMs ?? 5_000;

  const concurrency = deps.concurrency ?? 25;

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

  /** Claims and fires every due timer; returns ms until the next one (-1 when none). */
  async function runDue(): Promise<{ fired: number; nextInMs: number }> {
    let fired = 0;
    for (;;) {
      const r = (await scripts.run('timer_claim', [
        keys.prefix,
        clock.now(),
        lease,
        100,
      ])) as string[];
      const nextInMs = Number(r[r.length - 1]);
      const pairs = r.length - 1;
      const claimed: [string, TimerData][] = [];
      for (let i = 0; i < pairs; i += 2) claimed.push([r[i]!, JSON.parse(r[i + 1]!) as TimerData]);
      // claimed timers are disjoint and every handler settles through an atomic script, so a batch
      // fires concurrently: a burst of due levels costs a few round trips, not one chain per timer
      for (let i = 0; i < claimed.length; i += concurrency) {
        const done = await Promise.all(
          claimed.slice(i, i + concurrency).map(([id, data]) => fire(id, data)),
        );
        fired += done.filter(Boolean).length;
      }
      if (pairs < 200) return { fired, nextInMs };
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
