import type { OutboxJob } from '../domain/outbox.js';
import { createWorkerLoop, STORM_WAKE_GAP_MS } from '../loop.js';
import type { OutboxStore } from '../store/outbox.js';
import { createDispatcher, type DispatchDeps } from './dispatch.js';
import { isTransient, rateLimitedFor } from './sender.js';

export interface OutboxDeps extends DispatchDeps {
  store: DispatchDeps['store'] & Pick<OutboxStore, 'claim' | 'depth'>;
}

/**
 * The durable outbox: every Telegram send or edit is a job in Redis, paced per chat and globally
 * (the store's claim), coalesced per incident, merged into digests in a storm, retried on 429/5xx.
 */
export function createOutbox(deps: OutboxDeps) {
  const { store, logger, metrics } = deps;
  const dispatch = createDispatcher(deps);

  /** Sends one job; a failure re-queues it (429: after Telegram's retry_after) or drops it. */
  async function handle(job: OutboxJob): Promise<void> {
    try {
      await dispatch(job);
    } catch (e) {
      const retryAfter = rateLimitedFor(e);
      if (retryAfter !== undefined) {
        metrics.rateLimited.inc();
        logger.warn({ chat: job.chat, retryMs: retryAfter }, 'telegram rate limit: job re-queued');
        return store.finish(job, 'retry', { delayMs: retryAfter });
      }
      const attempts = (job.attempts ?? 0) + 1;
      if (isTransient(e)) {
        // a Telegram outage (5xx, network) never drops a page: the job waits, each failure counted
        // so the wait grows to at most 30 s, and goes out once Telegram answers again
        metrics.sends.inc({ method: job.kind, result: 'retry' });
        const delay = Math.min(500 * 2 ** Math.min(attempts, 6), 30_000);
        logger.warn({ chat: job.chat, attempts, err: e }, 'telegram send failed: will retry');
        return store.finish(job, 'retry', { delayMs: delay, failure: true });
      }
      metrics.sends.inc({ method: job.kind, result: 'dropped' });
      logger.error({ chat: job.chat, kind: job.kind, err: e }, 'telegram send failed: dropped');
      await store.finish(job, 'done');
    }
  }

  /** Sends whatever the limits allow right now; returns how long until more could go out (-1: empty). */
  async function drain(
    maxJobs = Number.POSITIVE_INFINITY,
  ): Promise<{ sent: number; waitMs: number }> {
    let sent = 0;
    while (sent < maxJobs) {
      const { job, waitMs } = await store.claim();
      if (!job) return { sent, waitMs };
      await handle(job);
      sent++;
    }
    return { sent, waitMs: 0 };
  }

  const worker = createWorkerLoop(
    'outbox',
    async () => {
      const r = await drain(50);
      if (r.sent > 0 && r.waitMs === 0) return 0;
      return r.waitMs < 0 ? 250 : Math.min(r.waitMs, 250);
    },
    logger,
    // a storm notifies once per alert; a claim per notification would cost more than the alert
    { minWakeGapMs: STORM_WAKE_GAP_MS },
  );

  return {
    drain,
    /** Jobs waiting in every chat's lanes. */
    depth: () => store.depth(),
    /** Wakes the background loop (something was queued). */
    notify: worker.notify,
    start: worker.start,
    stop: worker.stop,
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
