import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { OpsbotConfig } from '../config.js';
import type { TimerService } from '../escalation/timers.js';
import type { Locale, Translate } from '../i18n.js';
import type { Incident } from '../domain/incident.js';
import { mergePlans, type EffectPlan, type IncidentRepository } from '../store/incidents.js';
import { parseChatKey } from '../incidents/routing.js';
import type { Alert } from '../domain/alert.js';
import type { Logger } from '../logger.js';
import type { AmSilenceStore } from '../store/am-silences.js';
import {
  AmError,
  createAmClient,
  type AmClient,
  type AmMatcher,
  type AmSilence,
} from './client.js';
import { amTimerId as timerId, createAmSilenceJobs } from './silence-jobs.js';

export { ACK_WATCH_MS, amBackoff } from './silence-jobs.js';

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
 * (ref = `<origin>|<integration>`) holding Alertmanager's id once known and
 * `want` (on/off): an expire that overtakes its create stops the create, or expires what it made.
 */
export function createAmSilences(deps: {
  store: AmSilenceStore;
  clock: Clock;
  config: OpsbotConfig;
  repo: IncidentRepository;
  timers: TimerService;
  logger: Logger;
  t: Translate;
  localeOf(chatId: number): Promise<Locale>;
}) {
  const { store, clock, config, repo, timers, logger, t, localeOf } = deps;
  const clients = new Map<string, AmClient>();
  for (const [name, i] of Object.entries(config.integrations))
    if (i.kind === 'alertmanager' && i.api_url) clients.set(name, createAmClient(i));
  const pending = new Set<Promise<void>>();

  const refOf = (origin: string, integration: string) => `${origin}|${integration}`;

  /** The integration whose Alertmanager silences an incident, if its integration has `api_url`. */
  function integrationOf(inc: Pick<Incident, 'integration'>): string | undefined {
    return clients.has(inc.integration) ? inc.integration : undefined;
  }

  /** The incident's Alertmanager group labels (webhook `groupLabels`), else its alert's labels. */
  async function groupMatchers(inc: Incident): Promise<AmMatcher[]> {
    let labels: Record<string, string> = {};
    // one alert is enough: every alert of an Alertmanager group carries the same groupLabels
    for (const sample of await store.sampleAlerts(inc.id)) {
      const a = sample as Alert & { groupLabels?: Record<string, string> };
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
      ...store.recordPlan(ref, fields),
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
      ...store.setPlan(ref, { want: 'off' }),
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
    return store.existing([...clients.keys()].map((n) => refOf(origin, n)));
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
    await repo.apply(
      merge(store.setPlan(ref, { integration, am_id: amId, ends }), expirePlan(ref)),
    );
    timers.notify();
  }

  async function expireOrigin(origin: string): Promise<EffectPlan> {
    return merge(...(await existingRefs(origin)).map(expirePlan));
  }

  const handle = createAmSilenceJobs({
    store,
    clients,
    clock,
    repo,
    timers,
    logger,
    expirePlan,
    orphan,
    timeline,
    notice,
  });

  timers.register('am-silence', async (id, data) => {
    // a request may outlast the timer lease: keep the claim until it has answered or timed out
    await store.holdTimer(id, clock.now() + 15_000);
    const p = handle(id, data)
      .catch((err: unknown) =>
        logger.error({ id, err }, 'Alertmanager silence job failed; retried after lease'),
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
      return store.amIds([...clients.keys()].map((n) => refOf(origin, n)));
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
