import type { OpsbotConfig } from '../config.js';
import type { TimerSpec } from '../domain/timers.js';
import type { Incident } from '../domain/incident.js';
import type { EffectPlan } from '../store/incidents.js';
import { creationFields, escalationFields } from '../store/escalation.js';
import type { Keys } from '../store/keys.js';
import { webhookTimer } from './notifiers.js';
import { nextStep, type EscalationPolicy, type LevelTargets } from './policy.js';

/**
 * The effect plans of escalation, built from plain values (no reads): each is applied atomically,
 * under the fired timer's once-marker when there is one.
 */

export const escTimerId = (inc: string, loop: number, level: number, tag = '') =>
  `esc:${inc}:${loop}:${level}${tag ? `:${tag}` : ''}`;

/** The timer that fires `level` of `loop` at `due` (never before `now`). */
export function escTimer(
  inc: string,
  step: { loop: number; level: number; due: number },
  id = escTimerId(inc, step.loop, step.level),
  fireAt = step.due,
): TimerSpec {
  const { loop, level, due } = step;
  return { id, due: fireAt, data: { kind: 'esc', inc, loop, level, due } };
}

type SeverityConfig = NonNullable<OpsbotConfig['severities']['P0']>;

/** Fields and timers a new incident starts with; `%ID%` stands for its id (intake's creating script). */
export function creationPlan(
  sev: SeverityConfig | undefined,
  policy: EscalationPolicy | undefined,
  now: number,
): { hset: Record<string, string | number>; timers: TimerSpec[] } {
  let hset: Record<string, string | number> = {};
  const timers: TimerSpec[] = [];
  if (policy) {
    const first = escTimer('%ID%', { loop: 0, level: 0, due: now + policy.levels[0]!.after });
    hset = creationFields({ loop: 0, level: 0, timer: first.id }, now);
    timers.push(first);
  }
  if (sev) {
    const due = now + sev.ack_within;
    timers.push({ id: `breach:%ID%`, due, data: { kind: 'breach', inc: '%ID%', due } });
  }
  return { hset, timers };
}

/** What an acknowledgement at `ackAt` changes: the chain and breach stop; reminders start. */
export function ackEffects(
  keys: Keys,
  inc: Incident,
  sev: SeverityConfig | undefined,
  ackAt: number,
): Pick<EffectPlan, 'cancel' | 'timers' | 'hdel'> {
  const timers: TimerSpec[] = [];
  if (sev?.update_every) {
    const due = ackAt + sev.update_every;
    const data = { kind: 'remind', inc: inc.id, ackAt, due } as const;
    timers.push({ id: `remind:${inc.id}:${ackAt}:0`, due, data });
  }
  if (sev?.reack_after) {
    const due = ackAt + sev.reack_after;
    timers.push({
      id: `reack:${inc.id}:${ackAt}`,
      due,
      data: { kind: 'reack', inc: inc.id, ackAt, due },
    });
  }
  return {
    cancel: [inc.escTimer ?? '', `breach:${inc.id}`].filter(Boolean),
    timers,
    hdel: [escalationFields(keys, inc.id).clearStep()],
  };
}

/** Starts the chain again from level 0 in a new loop, now (the acknowledgement is cleared). */
export function restartChain(
  keys: Keys,
  inc: Incident,
  policy: EscalationPolicy | undefined,
  now: number,
  hset: NonNullable<EffectPlan['hset']> = [],
): Pick<EffectPlan, 'hset' | 'timers' | 'hdel' | 'cancel'> {
  const f = escalationFields(keys, inc.id);
  const hdel = f.clearAck();
  if (!policy) return { hset, hdel };
  const first = escTimer(inc.id, { loop: inc.loop + 1, level: 0, due: now });
  return {
    hset: [...hset, ...f.setNext(inc.loop + 1, 0, first.id), f.setLoopStart(now)],
    hdel,
    cancel: [inc.escTimer ?? ''].filter(Boolean),
    timers: [first],
  };
}

/** The guards of a fired level: the incident is still triggered and still waiting for this step. */
export function levelGuards(keys: Keys, inc: string, step: { loop: number; level: number }) {
  const f = escalationFields(keys, inc);
  return [f.whenState('triggered'), f.whenStep(`${step.loop}:${step.level}`)];
}

/** A level that comes due while its incident is silenced or in maintenance fires when that ends. */
export function suppressedPlan(
  keys: Keys,
  data: { inc: string; loop: number; level: number },
  until: number,
  now: number,
): EffectPlan {
  const id = escTimerId(data.inc, data.loop, data.level, `s${until}`);
  return {
    guards: levelGuards(keys, data.inc, data),
    hset: [escalationFields(keys, data.inc).setTimer(id)],
    // checked again within a week at the latest (a silence may be extended or lifted)
    timers: [
      escTimer(data.inc, { ...data, due: until }, id, Math.min(until, now + 7 * 86_400_000)),
    ],
  };
}

/**
 * The plan of a fired level: its pages (the first level of the first loop shows the incident in its
 * chats; later levels post again so phones ring, as an edit notifies nobody), the card's record of
 * who was paged, a timeline entry, the next step's timer (or the end of the chain) and the level's
 * webhook deliveries (durable timers, under the same once-marker).
 */
export function levelPlan(
  keys: Keys,
  fired: { inc: string; loop: number; level: number; loopStart: number },
  policy: EscalationPolicy,
  targets: LevelTargets,
  now: number,
): EffectPlan {
  const { inc, loop, level } = fired;
  const f = escalationFields(keys, inc);
  const coalesce = `sync:${inc}`;
  const first = level === 0 && loop === 0;
  const outbox: NonNullable<EffectPlan['outbox']> = targets.pages.map((p) =>
    'chat' in p
      ? { chat: p.chat, kind: first ? 'sync' : 'page', data: { inc, force: true, level }, coalesce }
      : {
          chat: String(p.telegramId),
          kind: 'page',
          data: { inc, level, person: p.person, telegram_id: p.telegramId },
          coalesce,
        },
  );
  const { paged } = targets;
  const plan: EffectPlan = {
    guards: levelGuards(keys, inc, fired),
    hset: f.setFired(loop, level, paged),
    outbox,
    timeline: [
      {
        inc,
        entry: {
          t: now,
          type: 'escalated',
          actor: 'opsbot',
          text: `level ${level + 1}: ${paged.join(', ')}`,
          data: { level, loop, paged },
        },
      },
    ],
    sync: [{ inc }],
    timers: [],
  };
  const next = nextStep(policy, fired, fired.loopStart, now);
  if (next) {
    const timer = escTimer(inc, next, undefined, Math.max(next.due, now));
    plan.hset!.push(...f.setNext(next.loop, next.level, timer.id));
    if (next.level === 0) plan.hset!.push(f.setLoopStart(next.due));
    plan.timers!.push(timer);
  } else {
    plan.hdel = [f.clearStep()];
  }
  const who = { people: [] as string[], chats: [] as string[] };
  for (const p of targets.pages) {
    if ('chat' in p) who.chats.push(p.name);
    else who.people.push(p.person);
  }
  for (const hook of targets.webhooks)
    plan.timers!.push(webhookTimer(inc, loop, level, hook, now, who));
  if (!plan.timers!.length) delete plan.timers;
  return plan;
}
