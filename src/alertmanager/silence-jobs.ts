import type { Clock } from '../clock.js';
import type { TimerData, TimerService } from '../escalation/timers.js';
import {
  mergePlans as merge,
  type EffectPlan,
  type IncidentRepository,
} from '../store/incidents.js';
import type { Logger } from '../logger.js';
import type { AmSilenceStore } from '../store/am-silences.js';
import { AmError, type AmClient, type AmMatcher } from './client.js';

const FIRST_BACKOFF = 5_000;
const MAX_BACKOFF = 5 * 60_000;
/** How often an acknowledgement's silence checks that its incident is still acknowledged. */
export const ACK_WATCH_MS = 60_000;

/** Delay before retry number `attempt + 1`: 5s, 10s, 20s, ... at most 5 min. */
export function amBackoff(attempt: number): number {
  return Math.min(FIRST_BACKOFF * 2 ** attempt, MAX_BACKOFF);
}

export const amTimerId = (ref: string, gen: string, op: string, n: number) =>
  `ams:${ref}:${gen}:${op}:${n}`;

/**
 * The `am-silence` timer's work: create, watch (silence_on_ack) or expire one silence record in
 * Alertmanager, settling the timer in the same atomic step as the outcome; an unreachable
 * Alertmanager gets a retry with backoff and the chat is told once.
 */
export function createAmSilenceJobs(deps: {
  store: AmSilenceStore;
  clients: Map<string, AmClient>;
  clock: Clock;
  repo: IncidentRepository;
  timers: TimerService;
  logger: Logger;
  /** The plan that expires a silence now. */
  expirePlan(ref: string): EffectPlan;
  /** Expires (durably) an Alertmanager silence no record wants any more. */
  orphan(integration: string, amId: string, ends: number): Promise<void>;
  /** A timeline entry on the incident, if any. */
  timeline(inc: string, text: string): EffectPlan;
  /** The "Alertmanager unreachable" message to a chat, if any. */
  notice(chat: string): Promise<EffectPlan>;
}) {
  const { store, clients, clock, repo, timers, logger, expirePlan, orphan, timeline, notice } =
    deps;

  return async function handle(id: string, data: TimerData): Promise<void> {
    const ref = String(data.ref);
    const op = String(data.op);
    const attempt = Number(data.attempt);
    const drop = store.deletePlan(ref);
    const settle: EffectPlan = { once: id, release: id };
    const rec = await store.record(ref);
    const client = rec.integration ? clients.get(rec.integration) : undefined;
    if (!client) return void (await repo.apply(merge(settle, drop)));
    const now = clock.now();
    const retry = (nextOp: string): EffectPlan => {
      const due = now + amBackoff(attempt);
      return {
        timers: [
          {
            id: amTimerId(ref, String(data.gen), nextOp, attempt + 1),
            due,
            data: { ...data, op: nextOp, attempt: attempt + 1, due },
          },
        ],
      };
    };

    if (op === 'create') {
      if (rec.want !== 'on' || rec.gen !== String(data.gen)) return void (await repo.apply(settle));
      if (Number(rec.ends) <= now) return void (await repo.apply(merge(settle, drop)));
      if (rec.ack_at) {
        const inc = await repo.get(rec.inc!);
        if (inc?.state !== 'acknowledged' || String(inc.ackAt) !== rec.ack_at)
          return void (await repo.apply(merge(settle, drop)));
      }
      try {
        const amId = await client.create({
          ...(rec.am_id ? { id: rec.am_id } : {}),
          matchers: JSON.parse(rec.matchers ?? '[]') as AmMatcher[],
          startsAt: now,
          endsAt: Number(rec.ends),
          createdBy: rec.by ?? 'opsbot',
          comment: rec.comment ?? '',
        });
        logger.info({ ref, amId, integration: rec.integration }, 'Alertmanager silence created');
        const watch: EffectPlan = rec.ack_at
          ? {
              timers: [
                {
                  id: amTimerId(ref, String(data.gen), 'watch', attempt + 1),
                  due: now + ACK_WATCH_MS,
                  data: { ...data, op: 'watch', attempt: attempt + 1, due: now + ACK_WATCH_MS },
                },
              ],
            }
          : {};
        const r = await repo.apply(
          merge(
            settle,
            store.guardPlan(ref, { want: 'on', gen: String(data.gen) }),
            store.setPlan(ref, { am_id: amId }),
            watch,
            timeline(rec.inc ?? '', `Alertmanager silence ${amId} (${rec.integration})`),
          ),
        );
        // expired or replaced while the call was in flight: expire what was just made
        if (r === 'stale') await orphan(rec.integration!, amId, Number(rec.ends));
        // a silence Alertmanager ends by itself needs no record after that
        await store.expireAt(ref, Number(rec.ends) + 86_400_000);
      } catch (e) {
        const err = e as AmError;
        if (err instanceof AmError && err.kind === 'refused') {
          logger.warn({ ref, err }, 'Alertmanager refused the silence');
          await repo.apply(
            merge(
              settle,
              drop,
              timeline(rec.inc ?? '', `Alertmanager refused the silence: ${err.message}`),
            ),
          );
          return;
        }
        logger.warn({ ref, err, attempt }, 'Alertmanager unreachable; retrying');
        const tell = rec.notified ? {} : await notice(rec.chat ?? '');
        await repo.apply(merge(settle, retry('create'), tell, store.setPlan(ref, { notified: 1 })));
      }
      timers.notify();
      return;
    }

    if (op === 'watch') {
      if (rec.want !== 'on' || rec.gen !== String(data.gen)) return void (await repo.apply(settle));
      const inc = await repo.get(rec.inc ?? '');
      if (inc?.state === 'acknowledged' && String(inc.ackAt) === rec.ack_at) {
        const due = now + ACK_WATCH_MS;
        await repo.apply(
          merge(settle, {
            timers: [
              {
                id: amTimerId(ref, String(data.gen), 'watch', attempt + 1),
                due,
                data: { ...data, attempt: attempt + 1, due },
              },
            ],
          }),
        );
      } else await repo.apply(merge(settle, expirePlan(ref)));
      timers.notify();
      return;
    }

    // expire
    if (!rec.am_id) {
      // never created (or still being created: its create sees want=off and stops)
      if (rec.want === 'off') await repo.apply(merge(settle, drop));
      else await repo.apply(settle);
      return;
    }
    if (rec.want !== 'off') return void (await repo.apply(settle));
    try {
      await client.expire(rec.am_id);
      logger.info({ ref, amId: rec.am_id }, 'Alertmanager silence expired');
      await repo.apply(
        merge(settle, drop, timeline(rec.inc ?? '', `Alertmanager silence ${rec.am_id} expired`)),
      );
    } catch (e) {
      const err = e as AmError;
      if (err instanceof AmError && err.kind === 'refused') {
        logger.warn({ ref, err }, 'Alertmanager refused to expire the silence');
        await repo.apply(merge(settle, drop));
        return;
      }
      // past its end Alertmanager has expired it by itself
      if (Number(rec.ends) <= now) return void (await repo.apply(merge(settle, drop)));
      logger.warn({ ref, err, attempt }, 'Alertmanager unreachable; retrying expire');
      await repo.apply(merge(settle, retry('expire')));
      timers.notify();
    }
  };
}
