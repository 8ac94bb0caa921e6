import type { Logger } from './logger.js';

/**
 * The wake gap of the loops intake wakes for every new incident (the outbox, the timers): a storm
 * costs one claim per 20 ms each, and new work waits at most 20 ms more.
 */
export const STORM_WAKE_GAP_MS = 20;

export interface WorkerLoopOptions {
  /**
   * The least time from the start of one tick to the start of the next one that `notify()` asks
   * for. A burst of notifications (one per alert in a storm) then costs at most one tick per gap,
   * not one per notification. A tick's own answer (0: at once) is never held back.
   */
  minWakeGapMs?: number;
  /** A monotonic clock in ms (tests give their own). */
  now?: () => number;
}

/**
 * A background worker loop: runs `tick` (which returns how long to wait before the next tick),
 * sleeps that long unless woken by `notify()`, and stops cleanly (the tick in progress finishes).
 * A notification that arrives while a tick runs is kept: the loop then ticks again without sleeping.
 */
export function createWorkerLoop(
  name: string,
  tick: () => Promise<number>,
  logger: Logger,
  opts: WorkerLoopOptions = {},
) {
  const gap = opts.minWakeGapMs ?? 0;
  const now = opts.now ?? (() => performance.now());
  let running = false;
  let loop: Promise<void> | undefined;
  /** Ends the current sleep after `ms` (0: now), when that is sooner than it would end anyway. */
  let wakeIn: ((ms: number) => void) | undefined;
  let notified = false;
  let tickStarted = 0;
  return {
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          let waitMs: number;
          notified = false;
          tickStarted = now();
          try {
            waitMs = await tick();
          } catch (e) {
            logger.warn({ err: e }, `${name} loop error`);
            waitMs = 500;
          }
          if (!running || waitMs <= 0) continue;
          if (notified) waitMs = Math.min(waitMs, Math.max(0, tickStarted + gap - now()));
          if (waitMs <= 0) continue;
          await new Promise<void>((resolve) => {
            let due = now() + waitMs;
            let timer = setTimeout(resolve, waitMs);
            wakeIn = (ms) => {
              if (now() + ms >= due) return;
              clearTimeout(timer);
              if (ms <= 0) return resolve();
              due = now() + ms;
              timer = setTimeout(resolve, ms);
            };
          });
          wakeIn = undefined;
        }
      })();
    },
    /** Something new to do: the loop ticks at once, or when the wake gap since its last tick ends. */
    notify() {
      if (!wakeIn) {
        notified = true;
        return;
      }
      wakeIn(tickStarted + gap - now());
    },
    async stop() {
      running = false;
      wakeIn?.(0);
      await loop;
    },
  };
}
