import type { Logger } from './logger.js';

/**
 * A background worker loop: runs `tick` (which returns how long to wait before the next tick),
 * sleeps that long unless woken by `notify()`, and stops cleanly (the tick in progress finishes).
 */
export function createWorkerLoop(name: string, tick: () => Promise<number>, logger: Logger) {
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  return {
    start() {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          let waitMs: number;
          try {
            waitMs = await tick();
          } catch (e) {
            logger.warn({ err: e }, `${name} loop error`);
            waitMs = 500;
          }
          if (!running || waitMs <= 0) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, waitMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      })();
    },
    notify() {
      wake?.();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
