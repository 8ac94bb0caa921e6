import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { OpsbotConfig } from '../config.js';
import type { Locale, Translate } from '../i18n.js';
import type { Incident } from '../domain/incident.js';
import { decodeIncident } from '../store/incident-codec.js';
import type { EffectPlan, IncidentRepository } from '../store/incidents.js';
import { chatKeyOf, parseChatKey } from '../incidents/routing.js';
import type { SuppressionStore } from '../incidents/silences.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { formatDuration } from '../duration.js';
import { escapeHtml } from '../telegram/html.js';
import type { Keys } from '../store/keys.js';
import { createWebhookNotifier, webhookTimer } from './notifiers.js';
import { onCallAt, type Override } from './schedule.js';
import type { TimerData, TimerService } from './timers.js';
import { own } from '../own.js';

/**
 * The runtime overrides (/override) of a schedule stored in Redis that still last after `now`.
 * The bot's escalation and `opsbot oncall --redis` both read them through this.
 */
export async function readRuntimeOverrides(
  redis: Redis,
  keys: Keys,
  schedule: string,
  now: number,
): Promise<Override[]> {
  const raw = await redis.hget(keys.overrides(), schedule);
  const list = raw ? (JSON.parse(raw) as Override[]) : [];
  return list.filter((o) => o.to > now);
}

export const escTimerId = (inc: string, loop: number, level: number, tag = '') =>
  `esc:${inc}:${loop}:${level}${tag ? `:${tag}` : ''}`;

export interface EscalationDeps {
  redis: Redis;
  keys: Keys;
  clock: Clock;
  config: OpsbotConfig;
  repo: IncidentRepository;
  timers: TimerService;
  silences: SuppressionStore;
  maintenance: SuppressionStore;
  t: Translate;
  localeOf: (chatId: number) => Promise<Locale>;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Severity-based escalation: each level is a durable timer fired exactly once (see timers.ts);
 * a fired level re-checks the incident atomically (guards) before anyone is paged.
 * Also breach announcements (ack_within), update reminders (update_every) and ack timeouts (reack_after).
 */
export function createEscalation(deps: EscalationDeps) {
  const { redis, keys, clock, config, repo, timers, t, logger, metrics } = deps;
  const webhooks = createWebhookNotifier({ redis, keys, clock, config, repo, timers, logger });

  const policyFor = (inc: Pick<Incident, 'severity'>) => {
    const name = config.severities[inc.severity]?.policy;
    return name ? own(config.escalation_policies, name) : undefined;
  };

  async function runtimeOverrides(schedule: string): Promise<Override[]> {
    return readRuntimeOverrides(redis, keys, schedule, clock.now());
  }

  /** Who `schedule:NAME` means right now. */
  async function onCall(schedule: string, at = clock.now()) {
    const s = own(config.schedules, schedule);
    if (!s) return undefined;
    return onCallAt(s, at, await runtimeOverrides(schedule));
  }

  /** Fields and timers a new incident starts with (used by intake inside the creating script). */
  function creationPlan(
    severity: Incident['severity'],
    now: number,
  ): {
    hset: Record<string, string | number>;
    timers: { id: string; due: number; data: TimerData }[];
  } {
    const hset: Record<string, string | number> = {};
    const list: { id: string; due: number; data: TimerData }[] = [];
    const sev = config.severities[severity];
    const policy = policyFor({ severity });
    if (policy) {
      const due = now + policy.levels[0]!.after;
      hset.esc_step = '0:0';
      hset.loop_start = now;
      hset.esc_timer = escTimerId('%ID%', 0, 0);
      list.push({
        id: escTimerId('%ID%', 0, 0),
        due,
        data: { kind: 'esc', inc: '%ID%', loop: 0, level: 0, due },
      });
    }
    if (sev) {
      const due = now + sev.ack_within;
      list.push({ id: `breach:%ID%`, due, data: { kind: 'breach', inc: '%ID%', due } });
    }
    return { hset, timers: list };
  }

  /**
   * Telegram ids of the people the first level of `severity`'s policy pages when a new incident is
   * created `now` (its `person:` targets and whoever is on call for its `schedule:` targets then).
   */
  async function firstLevelPeople(severity: Incident['severity'], now: number): Promise<string[]> {
    const lvl = policyFor({ severity })?.levels[0];
    if (!lvl) return [];
    const out: string[] = [];
    for (const target of lvl.notify) {
      const [kind, ref] = target.split(':') as [string, string];
      let person = ref;
      if (kind === 'schedule') {
        const who = await onCall(ref, now + lvl.after);
        if (!who) continue;
        person = who.person;
      } else if (kind !== 'person') continue;
      const p = own(config.people, person);
      if (p) out.push(String(p.telegram_id));
    }
    return out;
  }

  /** Cancels and schedules what an acknowledgement changes (for the ack plan). */
  function ackEffects(
    inc: Incident,
    ackAt: number,
  ): Pick<EffectPlan, 'cancel' | 'timers' | 'hdel'> {
    const sev = config.severities[inc.severity];
    const list: NonNullable<EffectPlan['timers']> = [];
    if (sev?.update_every) {
      const due = ackAt + sev.update_every;
      list.push({
        id: `remind:${inc.id}:${ackAt}:0`,
        due,
        data: { kind: 'remind', inc: inc.id, ackAt, due },
      });
    }
    if (sev?.reack_after) {
      const due = ackAt + sev.reack_after;
      list.push({
        id: `reack:${inc.id}:${ackAt}`,
        due,
        data: { kind: 'reack', inc: inc.id, ackAt, due },
      });
    }
    return {
      cancel: [inc.escTimer ?? '', `breach:${inc.id}`].filter(Boolean),
      timers: list,
      hdel: [{ key: keys.incident(inc.id), field: 'esc_step' }],
    };
  }

  async function suppressedUntil(inc: Incident): Promise<number | undefined> {
    const now = clock.now();
    if (inc.silencedUntil && inc.silencedUntil > now) return inc.silencedUntil;
    // both read at once: one round trip, not two in a row
    const [m, s] = await Promise.all([
      deps.maintenance.matching(inc.labels),
      deps.silences.matching(inc.labels),
    ]);
    return m ? m.until : s?.until;
  }

  async function fireLevel(id: string, data: TimerData): Promise<void> {
    const incId = String(data.inc);
    const loop = Number(data.loop);
    const level = Number(data.level);
    // the incident and its loop start in one read
    const raw = await redis.hgetall(keys.incident(incId));
    const inc = decodeIncident(raw);
    const policy = inc && policyFor(inc);
    const settle = { once: id, release: id };
    const step = `${loop}:${level}`;
    if (!inc || !policy || inc.state !== 'triggered' || inc.escStep !== step) {
      metrics.escalations.inc({ result: 'stale' });
      await repo.apply(settle);
      return;
    }
    const ik = keys.incident(incId);
    const guards = [
      { key: ik, field: 'state', eq: 'triggered' },
      { key: ik, field: 'esc_step', eq: step },
    ];
    const now = clock.now();
    const until = await suppressedUntil(inc);
    if (until) {
      // silenced or in maintenance: try this level again when that ends
      const rid = escTimerId(incId, loop, level, `s${until}`);
      metrics.escalations.inc({ result: 'suppressed' });
      await repo.apply({
        ...settle,
        guards,
        hset: [{ key: ik, field: 'esc_timer', value: rid }],
        timers: [
          { id: rid, due: Math.min(until, now + 7 * 86_400_000), data: { ...data, due: until } },
        ],
      });
      return;
    }
    const lvl = policy.levels[level]!;
    const outbox: NonNullable<EffectPlan['outbox']> = [];
    const paged: string[] = [];
    const hooks: string[] = [];
    const people: string[] = [];
    const chatNames: string[] = [];
    for (const target of lvl.notify) {
      const [kind, ref] = target.split(':') as [string, string];
      if (kind === 'webhook') {
        // delivered after this step commits, as durable timers (see notifiers.ts)
        hooks.push(ref);
        paged.push(`webhook ${ref}`);
        continue;
      }
      if (kind === 'chat') {
        chatNames.push(ref);
        const chat = chatKeyOf(own(config.chats, ref)!);
        // the first level shows the incident; later levels and repeats post again so phones ring
        // (an edit in place notifies nobody)
        const first = level === 0 && loop === 0;
        outbox.push({
          chat,
          kind: first ? 'sync' : 'page',
          data: { inc: incId, force: true, level },
          coalesce: `sync:${incId}`,
        });
        paged.push(`#${ref}`);
        continue;
      }
      let person = ref;
      if (kind === 'schedule') {
        const who = await onCall(ref, now);
        if (!who) {
          paged.push(`${ref}: —`);
          continue;
        }
        person = who.person;
      }
      const p = own(config.people, person);
      if (!p) continue;
      outbox.push({
        chat: String(p.telegram_id),
        kind: 'page',
        data: { inc: incId, level, person, telegram_id: p.telegram_id },
        coalesce: `sync:${incId}`,
      });
      paged.push(kind === 'schedule' ? `${person} (${ref})` : person);
      people.push(person);
    }
    // what comes next: the following level, or the chain again (repeat), or nothing
    let next: { loop: number; level: number; due: number } | undefined;
    const loopStart = Number(raw.loop_start ?? inc.createdAt);
    if (level + 1 < policy.levels.length) {
      next = { loop, level: level + 1, due: loopStart + policy.levels[level + 1]!.after };
    } else if (loop < policy.repeat) {
      const last = policy.levels[level]!.after;
      const prev = level > 0 ? policy.levels[level - 1]!.after : 0;
      next = { loop: loop + 1, level: 0, due: now + Math.max(last - prev, 60_000) };
    }
    const hset: NonNullable<EffectPlan['hset']> = [
      { key: ik, field: 'level', value: level },
      { key: ik, field: 'loop', value: loop },
      { key: ik, field: 'paged', value: JSON.stringify(paged) },
    ];
    const plan: EffectPlan = {
      ...settle,
      guards,
      hset,
      outbox,
      timeline: [
        {
          inc: incId,
          entry: {
            t: now,
            type: 'escalated',
            actor: 'opsbot',
            text: `level ${level + 1}: ${paged.join(', ')}`,
            data: { level, loop, paged },
          },
        },
      ],
      sync: [{ inc: incId }],
    };
    if (next) {
      const nid = escTimerId(incId, next.loop, next.level);
      hset.push({ key: ik, field: 'esc_step', value: `${next.loop}:${next.level}` });
      hset.push({ key: ik, field: 'esc_timer', value: nid });
      if (next.level === 0) hset.push({ key: ik, field: 'loop_start', value: next.due });
      plan.timers = [
        {
          id: nid,
          due: Math.max(next.due, now),
          data: { kind: 'esc', inc: incId, loop: next.loop, level: next.level, due: next.due },
        },
      ];
    } else {
      plan.hdel = [{ key: ik, field: 'esc_step' }];
    }
    if (hooks.length)
      plan.timers = [
        ...(plan.timers ?? []),
        ...hooks.map((h) => webhookTimer(incId, loop, level, h, now, { people, chats: chatNames })),
      ];
    const res = await repo.apply(plan);
    if (res === 'ok' && hooks.length) timers.notify();
    metrics.escalations.inc({ result: res });
    if (res === 'ok') logger.info({ inc: incId, level, loop, paged }, 'escalation level fired');
  }

  async function notifyText(inc: Incident, key: string, vars: Record<string, string | number>) {
    const out: NonNullable<EffectPlan['outbox']> = [];
    for (const chat of inc.chats) {
      const locale = await deps.localeOf(parseChatKey(chat).chatId);
      out.push({ chat, kind: 'text', data: { inc: inc.id, text: t(locale, key, vars) } });
    }
    return out;
  }

  async function fireBreach(id: string, data: TimerData) {
    const inc = await repo.get(String(data.inc));
    const settle = { once: id, release: id };
    if (!inc || inc.state !== 'triggered') return void (await repo.apply(settle));
    const target = config.severities[inc.severity]?.ack_within ?? 0;
    const now = clock.now();
    await repo.apply({
      ...settle,
      guards: [{ key: keys.incident(inc.id), field: 'state', eq: 'triggered' }],
      hset: [{ key: keys.incident(inc.id), field: 'breached', value: 1 }],
      timeline: [
        {
          inc: inc.id,
          entry: {
            t: now,
            type: 'breach',
            actor: 'opsbot',
            text: `not acknowledged within ${formatDuration(target)}`,
          },
        },
      ],
      outbox: await notifyText(inc, 'breach-announce', {
        id: inc.id,
        severity: inc.severity,
        target: formatDuration(target),
        title: escapeHtml(inc.title),
      }),
      sync: [{ inc: inc.id }],
    });
  }

  async function fireRemind(id: string, data: TimerData) {
    const inc = await repo.get(String(data.inc));
    const settle = { once: id, release: id };
    const ackAt = Number(data.ackAt);
    const every = inc ? config.severities[inc.severity]?.update_every : undefined;
    if (!inc || !every || inc.state !== 'acknowledged' || inc.ackAt !== ackAt)
      return void (await repo.apply(settle));
    const now = clock.now();
    const last = Math.max(inc.lastUpdateAt ?? 0, ackAt);
    const ik = keys.incident(inc.id);
    const guards = [
      { key: ik, field: 'state', eq: 'acknowledged' },
      { key: ik, field: 'ack_at', eq: String(ackAt) },
    ];
    if (now < last + every) {
      const due = last + every;
      await repo.apply({
        ...settle,
        guards,
        timers: [{ id: `remind:${inc.id}:${ackAt}:${last}`, due, data: { ...data, due } }],
      });
      return;
    }
    const who = inc.assignee ?? inc.ackBy ?? '';
    const person = own(config.people, who);
    const mention = person
      ? `<a href="tg://user?id=${person.telegram_id}">${escapeHtml(who)}</a>`
      : escapeHtml(who);
    await repo.apply({
      ...settle,
      guards,
      timeline: [
        { inc: inc.id, entry: { t: now, type: 'update_reminder', actor: 'opsbot', text: who } },
      ],
      outbox: await notifyText(inc, 'remind-update', {
        id: inc.id,
        who: mention,
        every: formatDuration(every),
        since: formatDuration(now - last),
      }),
      timers: [
        {
          id: `remind:${inc.id}:${ackAt}:${now}`,
          due: now + every,
          data: { ...data, due: now + every },
        },
      ],
    });
  }

  async function fireReack(id: string, data: TimerData) {
    const inc = await repo.get(String(data.inc));
    const settle = { once: id, release: id };
    const ackAt = Number(data.ackAt);
    if (!inc || inc.state !== 'acknowledged' || inc.ackAt !== ackAt)
      return void (await repo.apply(settle));
    const now = clock.now();
    const ik = keys.incident(inc.id);
    await repo.apply({
      ...settle,
      guards: [
        { key: ik, field: 'state', eq: 'acknowledged' },
        { key: ik, field: 'ack_at', eq: String(ackAt) },
      ],
      ...restartChain(inc, now, [{ key: ik, field: 'state', value: 'triggered' }]),
      timeline: [
        {
          inc: inc.id,
          entry: { t: now, type: 'ack_timeout', actor: 'opsbot', text: inc.ackBy ?? '' },
        },
      ],
      sync: [{ inc: inc.id }],
    });
  }

  /** Starts the chain again from level 0 in a new loop, now. */
  function restartChain(
    inc: Incident,
    now: number,
    hset: NonNullable<EffectPlan['hset']> = [],
  ): Pick<EffectPlan, 'hset' | 'timers' | 'hdel' | 'cancel'> {
    const ik = keys.incident(inc.id);
    const policy = policyFor(inc);
    const hdel = [
      { key: ik, field: 'ack_at' },
      { key: ik, field: 'ack_by' },
    ];
    if (!policy) return { hset, hdel };
    const loop = inc.loop + 1;
    const nid = escTimerId(inc.id, loop, 0);
    return {
      hset: [
        ...hset,
        { key: ik, field: 'esc_step', value: `${loop}:0` },
        { key: ik, field: 'esc_timer', value: nid },
        { key: ik, field: 'loop_start', value: now },
      ],
      hdel,
      cancel: [inc.escTimer ?? ''].filter(Boolean),
      timers: [{ id: nid, due: now, data: { kind: 'esc', inc: inc.id, loop, level: 0, due: now } }],
    };
  }

  /**
   * `/escalate` or the Escalate button: the next level fires now. An acknowledged incident goes back
   * to triggered (its responder asked for help). Returns false when there is no policy or it is resolved.
   */
  async function escalateNow(
    inc: Incident,
    actor: string,
  ): Promise<'ok' | 'no_policy' | 'resolved' | 'stale'> {
    if (inc.state === 'resolved') return 'resolved';
    const policy = policyFor(inc);
    if (!policy) return 'no_policy';
    const now = clock.now();
    const ik = keys.incident(inc.id);
    const guards = [{ key: ik, field: 'state', eq: inc.state }];
    const timeline = [{ inc: inc.id, entry: { t: now, type: 'escalate_requested', actor } }];
    let plan: EffectPlan;
    if (inc.state === 'triggered' && inc.escStep) {
      const [loop, level] = inc.escStep.split(':').map(Number) as [number, number];
      const nid = escTimerId(inc.id, loop, level, `m${now}`);
      plan = {
        guards: [...guards, { key: ik, field: 'esc_step', eq: inc.escStep }],
        cancel: [inc.escTimer ?? ''].filter(Boolean),
        hset: [{ key: ik, field: 'esc_timer', value: nid }],
        timers: [{ id: nid, due: now, data: { kind: 'esc', inc: inc.id, loop, level, due: now } }],
        timeline,
      };
    } else {
      plan = {
        guards,
        ...restartChain(inc, now, [{ key: ik, field: 'state', value: 'triggered' }]),
        timeline,
        sync: [{ inc: inc.id }],
      };
      // a restarted chain skips level 0 when it was already paged in this loop: go one level further
      if (policy.levels.length > 1 && inc.state === 'triggered') {
        const loop = inc.loop + 1;
        const nid = escTimerId(inc.id, loop, 0);
        plan.timers = [
          { id: nid, due: now, data: { kind: 'esc', inc: inc.id, loop, level: 0, due: now } },
        ];
      }
    }
    const r = await repo.apply(plan);
    timers.notify();
    return r === 'ok' ? 'ok' : 'stale';
  }

  timers.register('esc', fireLevel);
  timers.register('breach', fireBreach);
  timers.register('remind', fireRemind);
  timers.register('reack', fireReack);

  return {
    creationPlan,
    firstLevelPeople,
    ackEffects,
    escalateNow,
    onCall,
    runtimeOverrides,
    policyFor,
    restartChain,
    /** Waits for webhook deliveries in flight (shutdown). */
    drainWebhooks: webhooks.drain,
  };
}

export type Escalation = ReturnType<typeof createEscalation>;
