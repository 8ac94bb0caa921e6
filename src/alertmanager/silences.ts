import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { OpsbotConfig } from '../config.js';
import type { TimerDataOf, TimerService } from '../scheduler/timers.js';
import type { Locale, Translate } from '../i18n.js';
import type { Incident } from '../domain/incident.js';
import { mergePlans, type EffectPlan, type IncidentRepository } from '../incidents/repository.js';
import { parseChatKey } from '../incidents/routing.js';
import type { Alert } from '../domain/alert.js';
import type { Logger } from '../logger.js';
import type { Keys } from '../store/keys.js';
import {
  AmError,
  createAmClient,
  type AmClient,
  type AmMatcher,
  type AmSilence,
} from './client.js';

const FIRST_BACKOFF = 5_000;
const MAX_BACKOFF = 5 * 60_000;
/** How often an acknowledgement's silence checks that its incident is still acknowledged. */
export const ACK_WATCH_MS = 60_000;

/** Delay before retry number `attempt + 1`: 5s, 10s, 20s, ... at most 5 min. */
export function amBackoff(attempt: number): number {
  return Math.min(FIRST_BACKOFF * 2 ** attempt, MAX_BACKOFF);
}

/** Who acted, for `createdBy` and the comment's link. */
export interface AmActor {
  name: string;
  username?: string;
  /** Chat key (`chatId` or `chatId:threadId`) told when Alertmanager is unreachable. */
  chat?: string;
  /** The message acted on (incident message, /silence command): linked from the comment. */
  messageId?: number;
}

/** `https://t.me/c/<id>/<message>` for a supergroup message; '' otherwise. */
export function messageLink(chatKey: string | undefined, messageId: number | undefined): string {
  if (!chatKey || !messageId) return '';
  const s = String(parseChatKey(chatKey).chatId);
  return s.startsWith('-100') ? `https://t.me/c/${s.slice(4)}/${messageId}` : '';
}

export const createdBy = (a: AmActor) => (a.username ? `${a.name} (@${a.username})` : a.name);

/**
 * Two-way silences with Alertmanager (`api_url` on an alertmanager integration). Every create and
 * expire is a durable timer (kind `am-silence`) written in the same atomic step as the user's action,
 * so a crash or an Alertmanager outage loses nothing: a failed call is retried with backoff (5 s,
 * 10 s, ... at most 5 min apart) and the chat is told once. Each silence is a Redis hash
 * (`keys.amSilence(ref)`, ref = `<origin>|<integration>`) holding Alertmanager's id once known and
 * `want` (on/off): an expire that overtakes its create stops the create, or expires what it made.
 */
export function createAmSilences(deps: {
  redis: Redis;
  keys: Keys;
  clock: Clock;
  config: OpsbotConfig;
  repo: IncidentRepository;
  timers: TimerService;
  logger: Logger;
  t: Translate;
  localeOf(chatId: number): Promise<Locale>;
}) {
  const { redis, keys, clock, config, repo, timers, logger, t, localeOf } = deps;
  const clients = new Map<string, AmClient>();
  for (const [name, i] of Object.entries(config.integrations))
    if (i.kind === 'alertmanager' && i.api_url) clients.set(name, createAmClient(i));
  const pending = new Set<Promise<void>>();

  const refOf = (origin: string, integration: string) => `${origin}|${integration}`;
  const timerId = (ref: string, gen: string, op: string, n: number) =>
    `ams:${ref}:${gen}:${op}:${n}`;

  /** The integration whose Alertmanager silences an incident, if its integration has `api_url`. */
  function integrationOf(inc: Pick<Incident, 'integration'>): string | undefined {
    return clients.has(inc.integration) ? inc.integration : undefined;
  }

  /** The incident's Alertmanager group labels (webhook `groupLabels`), else its alert's labels. */
  async function groupMatchers(inc: Incident): Promise<AmMatcher[]> {
    let labels: Record<string, string> = {};
    // one alert is enough: every alert of an Alertmanager group carries the same groupLabels
    const [, first] = await redis.hscan(keys.alerts(inc.id), 0, 'COUNT', 10);
    for (let i = 1; i < first.length; i += 2) {
      const a = JSON.parse(first[i]!) as Alert & { groupLabels?: Record<string, string> };
      if (a.groupLabels && Object.keys(a.groupLabels).length) {
        labels = a.groupLabels;
        break;
      }
    }
    if (!Object.keys(labels).length) labels = inc.labels;
    return Object.entries(labels).map(([name, value]) => ({
      name,
      value,
      isRegex: false,
      isEqual: true,
    }));
  }

  /** The plan that records a wanted silence and schedules its creation now. */
  function createPlan(o: {
    origin: string;
    integration: string;
    matchers: AmMatcher[];
    endsAt: number;
    actor: AmActor;
    comment: string;
    inc?: string;
    /** silence_on_ack: the acknowledgement it belongs to. */
    ackAt?: number;
  }): EffectPlan {
    const now = clock.now();
    const ref = refOf(o.origin, o.integration);
    const key = keys.amSilence(ref);
    const gen = randomBytes(4).toString('hex');
    const fields: Record<string, string | number> = {
      ref,
      integration: o.integration,
      origin: o.origin,
      matchers: JSON.stringify(o.matchers),
      starts: now,
      ends: o.endsAt,
      by: createdBy(o.actor),
      comment: o.comment,
      want: 'on',
      gen,
      chat: o.actor.chat ?? '',
      inc: o.inc ?? '',
      ack_at: o.ackAt ?? '',
    };
    return {
      hset: Object.entries(fields).map(([field, value]) => ({ key, field, value })),
      hdel: [{ key, field: 'notified' }],
      timers: [
        {
          id: timerId(ref, gen, 'create', 0),
          due: now,
          data: { kind: 'am-silence', op: 'create', ref, gen, attempt: 0, due: now },
        },
      ],
    };
  }

  /** The plan that expires a silence (if it exists) now. */
  function expirePlan(ref: string): EffectPlan {
    const now = clock.now();
    const gen = randomBytes(4).toString('hex');
    return {
      hset: [{ key: keys.amSilence(ref), field: 'want', value: 'off' }],
      timers: [
        {
          id: timerId(ref, gen, 'expire', 0),
          due: now,
          data: { kind: 'am-silence', op: 'expire', ref, gen, attempt: 0, due: now },
        },
      ],
    };
  }

  const merge = mergePlans;

  /** Refs of the silences one origin (`s:<id>`, `b:INC-n`, `a:INC-n`) made that still exist. */
  async function existingRefs(origin: string): Promise<string[]> {
    const refs = [...clients.keys()].map((n) => refOf(origin, n));
    const pipe = redis.pipeline();
    for (const r of refs) pipe.exists(keys.amSilence(r));
    const res = (await pipe.exec()) ?? [];
    return refs.filter((_, i) => res[i]?.[1] === 1);
  }

  function timeline(inc: string, text: string): EffectPlan {
    if (!inc) return {};
    return {
      timeline: [{ inc, entry: { t: clock.now(), type: 'am-silence', actor: 'opsbot', text } }],
    };
  }

  async function notice(chat: string): Promise<EffectPlan> {
    if (!chat) return {};
    const locale = await localeOf(parseChatKey(chat).chatId);
    return { outbox: [{ chat, kind: 'text', data: { text: t(locale, 'am-unreachable') } }] };
  }

  /** Expires (durably) an Alertmanager silence opsbot no longer wants under any record. */
  async function orphan(integration: string, amId: string, ends: number): Promise<void> {
    const ref = refOf(`x:${amId}`, integration);
    const key = keys.amSilence(ref);
    await repo.apply(
      merge(
        {
          hset: [
            { key, field: 'integration', value: integration },
            { key, field: 'am_id', value: amId },
            { key, field: 'ends', value: ends },
          ],
        },
        expirePlan(ref),
      ),
    );
    timers.notify();
  }

  async function expireOrigin(origin: string): Promise<EffectPlan> {
    return merge(...(await existingRefs(origin)).map(expirePlan));
  }

  async function handle(id: string, data: TimerDataOf<'am-silence'>): Promise<void> {
    const { ref, op, attempt } = data;
    const key = keys.amSilence(ref);
    const settle: EffectPlan = { once: id, release: id };
    const rec = await redis.hgetall(key);
    const client = rec.integration ? clients.get(rec.integration) : undefined;
    if (!client) return void (await repo.apply(merge(settle, { del: [key] })));
    const now = clock.now();
    const retry = (nextOp: 'create' | 'expire' | 'watch'): EffectPlan => {
      const due = now + amBackoff(attempt);
      return {
        timers: [
          {
            id: timerId(ref, data.gen, nextOp, attempt + 1),
            due,
            data: { ...data, op: nextOp, attempt: attempt + 1, due },
          },
        ],
      };
    };

    if (op === 'create') {
      if (rec.want !== 'on' || rec.gen !== data.gen) return void (await repo.apply(settle));
      if (Number(rec.ends) <= now) return void (await repo.apply(merge(settle, { del: [key] })));
      if (rec.ack_at) {
        const inc = await repo.get(rec.inc!);
        if (inc?.state !== 'acknowledged' || String(inc.ackAt) !== rec.ack_at)
          return void (await repo.apply(merge(settle, { del: [key] })));
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
                  id: timerId(ref, data.gen, 'watch', attempt + 1),
                  due: now + ACK_WATCH_MS,
                  data: { ...data, op: 'watch', attempt: attempt + 1, due: now + ACK_WATCH_MS },
                },
              ],
            }
          : {};
        const r = await repo.apply(
          merge(
            settle,
            {
              guards: [
                { key, field: 'want', eq: 'on' },
                { key, field: 'gen', eq: data.gen },
              ],
              hset: [{ key, field: 'am_id', value: amId }],
            },
            watch,
            timeline(rec.inc ?? '', `Alertmanager silence ${amId} (${rec.integration})`),
          ),
        );
        // expired or replaced while the call was in flight: expire what was just made
        if (r === 'stale') await orphan(rec.integration!, amId, Number(rec.ends));
        // a silence Alertmanager ends by itself needs no record after that
        await redis.pexpireat(key, Number(rec.ends) + 86_400_000);
      } catch (e) {
        const err = e as AmError;
        if (err instanceof AmError && err.kind === 'refused') {
          logger.warn({ ref, err: err.message }, 'Alertmanager refused the silence');
          await repo.apply(
            merge(
              settle,
              { del: [key] },
              timeline(rec.inc ?? '', `Alertmanager refused the silence: ${err.message}`),
            ),
          );
          return;
        }
        logger.warn({ ref, err: err.message, attempt }, 'Alertmanager unreachable; retrying');
        const tell = rec.notified ? {} : await notice(rec.chat ?? '');
        await repo.apply(
          merge(settle, retry('create'), tell, {
            hset: [{ key, field: 'notified', value: 1 }],
          }),
        );
      }
      timers.notify();
      return;
    }

    if (op === 'watch') {
      if (rec.want !== 'on' || rec.gen !== data.gen) return void (await repo.apply(settle));
      const inc = await repo.get(rec.inc ?? '');
      if (inc?.state === 'acknowledged' && String(inc.ackAt) === rec.ack_at) {
        const due = now + ACK_WATCH_MS;
        await repo.apply(
          merge(settle, {
            timers: [
              {
                id: timerId(ref, data.gen, 'watch', attempt + 1),
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
      if (rec.want === 'off') await repo.apply(merge(settle, { del: [key] }));
      else await repo.apply(settle);
      return;
    }
    if (rec.want !== 'off') return void (await repo.apply(settle));
    try {
      await client.expire(rec.am_id);
      logger.info({ ref, amId: rec.am_id }, 'Alertmanager silence expired');
      await repo.apply(
        merge(
          settle,
          { del: [key] },
          timeline(rec.inc ?? '', `Alertmanager silence ${rec.am_id} expired`),
        ),
      );
    } catch (e) {
      const err = e as AmError;
      if (err instanceof AmError && err.kind === 'refused') {
        logger.warn({ ref, err: err.message }, 'Alertmanager refused to expire the silence');
        await repo.apply(merge(settle, { del: [key] }));
        return;
      }
      // past its end Alertmanager has expired it by itself
      if (Number(rec.ends) <= now) return void (await repo.apply(merge(settle, { del: [key] })));
      logger.warn({ ref, err: err.message, attempt }, 'Alertmanager unreachable; retrying expire');
      await repo.apply(merge(settle, retry('expire')));
      timers.notify();
    }
  }

  timers.register('am-silence', async (id, data) => {
    // a request may outlast the timer lease: keep the claim until it has answered or timed out
    await redis.zadd(keys.timerInflight(), 'XX', clock.now() + 15_000, id);
    const p = handle(id, data)
      .catch((e: Error) =>
        logger.error(
          { id, err: e.message },
          'Alertmanager silence job failed; retried after lease',
        ),
      )
      .finally(() => pending.delete(p));
    pending.add(p);
  });

  return {
    /** Names of the alertmanager integrations with `api_url`. */
    integrations: () => [...clients.keys()],
    integrationOf,
    groupMatchers,
    createPlan,
    merge,

    /** The plan expiring every Alertmanager silence an origin made (empty when none). */
    expireOrigin,

    /** Alertmanager ids of the silences an origin made (to show them once in /silences). */
    async amIds(origin: string): Promise<string[]> {
      const refs = [...clients.keys()].map((n) => keys.amSilence(refOf(origin, n)));
      const pipe = redis.pipeline();
      for (const k of refs) pipe.hget(k, 'am_id');
      return ((await pipe.exec()) ?? [])
        .map(([, v]) => v as string | null)
        .filter(Boolean) as string[];
    },

    /** silence_on_ack: the plan adding an Alertmanager silence to an acknowledgement. */
    ackPlan(inc: Incident, now: number, actor: AmActor, matchers: AmMatcher[]): EffectPlan {
      const integration = integrationOf(inc);
      if (!integration || !config.integrations[integration]?.silence_on_ack) return {};
      return createPlan({
        origin: `a:${inc.id}`,
        integration,
        matchers,
        endsAt: now + config.silences.max_duration.admin,
        actor,
        comment: [
          `acknowledged in opsbot by ${createdBy(actor)}; expires when ${inc.id} resolves or is unacknowledged`,
          inc.id,
          messageLink(actor.chat, actor.messageId),
        ]
          .filter(Boolean)
          .join(' · '),
        inc: inc.id,
        ackAt: now,
      });
    },

    /** For IncidentActions' `onAck`: the silence_on_ack effects of acknowledging incident `id`. */
    async ackEffects(
      id: string,
      actor: string,
      meta?: Omit<AmActor, 'name'>,
    ): Promise<((inc: Incident, now: number) => EffectPlan) | undefined> {
      // no integration silences on acknowledgement: nothing to read (a button press saves a round trip)
      if (!Object.values(config.integrations).some((i) => i.silence_on_ack)) return undefined;
      const inc = await repo.get(id);
      if (!inc) return undefined;
      const integration = integrationOf(inc);
      if (!integration || !config.integrations[integration]?.silence_on_ack) return undefined;
      const matchers = await groupMatchers(inc);
      return (cur, now) => this.ackPlan(cur, now, { ...meta, name: actor }, matchers);
    },

    /** After a resolution or unacknowledgement: expire the acknowledgement's silence now. */
    async released(incId: string): Promise<void> {
      const plan = await expireOrigin(`a:${incId}`);
      if (plan.timers?.length) {
        await repo.apply(plan);
        timers.notify();
      }
    },

    /** Active Alertmanager silences per integration (an unreachable one gives its error). */
    async active(): Promise<{ integration: string; silences: AmSilence[]; error?: string }[]> {
      return Promise.all(
        [...clients].map(async ([integration, c]) => {
          try {
            return { integration, silences: await c.active() };
          } catch (e) {
            return { integration, silences: [], error: (e as Error).message };
          }
        }),
      );
    },

    /**
     * Expires an Alertmanager silence by its id (from /silences), trying each Alertmanager: 'ok', or
     * 'queued' when one was unreachable (a durable retry), or 'gone' when none knows it.
     */
    async expireById(amId: string): Promise<'ok' | 'queued' | 'gone'> {
      let unreachable: string | undefined;
      for (const [integration, c] of clients) {
        try {
          const known = (await c.active()).some((s) => s.id === amId);
          if (!known) continue;
          await c.expire(amId);
          return 'ok';
        } catch (e) {
          if (e instanceof AmError && e.kind === 'unreachable') unreachable ??= integration;
        }
      }
      if (!unreachable) return 'gone';
      await orphan(unreachable, amId, clock.now() + config.silences.max_duration.admin);
      return 'queued';
    },

    /** Waits for calls in flight (shutdown and tests). */
    async drain(): Promise<void> {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}

export type AmSilences = ReturnType<typeof createAmSilences>;
