import type { Clock } from '../clock.js';
import type { OpsbotConfig } from '../config.js';
import type { Notice } from '../domain/notices.js';
import type { TimerDataOf } from '../domain/timers.js';
import { formatDuration } from '../duration.js';
import type { Incident } from '../domain/incident.js';
import type { EffectPlan, IncidentRepository } from '../store/incidents.js';
import type { SuppressionStore } from '../incidents/silences.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { own } from '../own.js';
import type { TimerService } from '../scheduler/timers.js';
import { escalationFields } from '../store/escalation.js';
import type { Keys } from '../store/keys.js';
import type { OverrideStore } from '../store/overrides.js';
import { createLevelFiring } from './fire.js';
import { createWebhookNotifier } from './notifiers.js';
import * as plans from './plans.js';
import { createPolicies } from './policy.js';

export { escTimerId } from './plans.js';

export interface EscalationDeps {
  /** For the webhook notifier's delivery holds. */
  scripts: Parameters<typeof createWebhookNotifier>[0]['scripts'];
  keys: Keys;
  clock: Clock;
  config: OpsbotConfig;
  repo: IncidentRepository;
  timers: TimerService;
  overrides: Pick<OverrideStore, 'active'>;
  silences: SuppressionStore;
  maintenance: SuppressionStore;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Severity-based escalation: each level is a durable timer fired exactly once (see the scheduler);
 * a fired level re-checks the incident atomically (guards) before anyone is paged.
 * Also breach announcements (ack_within), update reminders (update_every) and ack timeouts (reack_after).
 */
export function createEscalation(deps: EscalationDeps) {
  const { scripts, keys, clock, config, repo, timers, logger } = deps;
  const webhooks = createWebhookNotifier({ scripts, keys, clock, config, repo, timers, logger });
  const policies = createPolicies({ config, clock, overrides: deps.overrides.active });
  const { policyFor } = policies;
  const firing = createLevelFiring({ ...deps, policies });

  /** Fields and timers a new incident starts with (used by intake inside the creating script). */
  const creationPlan = (severity: Incident['severity'], now: number) =>
    plans.creationPlan(config.severities[severity], policyFor({ severity }), now);

  /** Cancels and schedules what an acknowledgement changes (for the ack plan). */
  const ackEffects = (inc: Incident, ackAt: number) =>
    plans.ackEffects(keys, inc, config.severities[inc.severity], ackAt);

  /** Starts the chain again from level 0 in a new loop, now. */
  const restartChain = (inc: Incident, now: number, hset: NonNullable<EffectPlan['hset']> = []) =>
    plans.restartChain(keys, inc, policyFor(inc), now, hset);

  /** A notice for each chat of the incident (rendered in the chat's language when sent). */
  const noticeToChats = (inc: Incident, notice: Notice): NonNullable<EffectPlan['outbox']> =>
    inc.chats.map((chat) => ({ chat, kind: 'text', data: { inc: inc.id, notice } }));

  async function fireBreach(id: string, data: TimerDataOf<'breach'>) {
    const inc = await repo.get(data.inc);
    const settle = { once: id, release: id };
    if (!inc || inc.state !== 'triggered') return void (await repo.apply(settle));
    const target = formatDuration(config.severities[inc.severity]?.ack_within ?? 0);
    const f = escalationFields(keys, inc.id);
    const entry = {
      t: clock.now(),
      type: 'breach',
      actor: 'opsbot',
      text: `not acknowledged within ${target}`,
    };
    await repo.apply({
      ...settle,
      guards: [f.whenState('triggered')],
      hset: [f.setBreached()],
      timeline: [{ inc: inc.id, entry }],
      outbox: noticeToChats(inc, {
        key: 'breach-announce',
        id: inc.id,
        severity: inc.severity,
        target,
        title: inc.title,
      }),
      sync: [{ inc: inc.id }],
    });
  }

  async function fireRemind(id: string, data: TimerDataOf<'remind'>) {
    const inc = await repo.get(data.inc);
    const settle = { once: id, release: id };
    const { ackAt } = data;
    const every = inc ? config.severities[inc.severity]?.update_every : undefined;
    if (!inc || !every || inc.state !== 'acknowledged' || inc.ackAt !== ackAt)
      return void (await repo.apply(settle));
    const now = clock.now();
    const last = Math.max(inc.lastUpdateAt ?? 0, ackAt);
    const f = escalationFields(keys, inc.id);
    const guards = [f.whenState('acknowledged'), f.whenAckAt(ackAt)];
    if (now < last + every) {
      // an update was posted meanwhile: remind a cadence after it
      const due = last + every;
      const timer = { id: `remind:${inc.id}:${ackAt}:${last}`, due, data: { ...data, due } };
      return void (await repo.apply({ ...settle, guards, timers: [timer] }));
    }
    const who = inc.assignee ?? inc.ackBy ?? '';
    const person = own(config.people, who);
    const timer = { id: `remind:${inc.id}:${ackAt}:${now}`, due: now + every };
    await repo.apply({
      ...settle,
      guards,
      timeline: [
        { inc: inc.id, entry: { t: now, type: 'update_reminder', actor: 'opsbot', text: who } },
      ],
      outbox: noticeToChats(inc, {
        key: 'remind-update',
        id: inc.id,
        who: { name: who, ...(person ? { telegramId: person.telegram_id } : {}) },
        every: formatDuration(every),
        since: formatDuration(now - last),
      }),
      timers: [{ ...timer, data: { ...data, due: timer.due } }],
    });
  }

  async function fireReack(id: string, data: TimerDataOf<'reack'>) {
    const inc = await repo.get(data.inc);
    const settle = { once: id, release: id };
    if (!inc || inc.state !== 'acknowledged' || inc.ackAt !== data.ackAt)
      return void (await repo.apply(settle));
    const now = clock.now();
    const f = escalationFields(keys, inc.id);
    await repo.apply({
      ...settle,
      guards: [f.whenState('acknowledged'), f.whenAckAt(data.ackAt)],
      ...restartChain(inc, now, [f.setState('triggered')]),
      timeline: [
        {
          inc: inc.id,
          entry: { t: now, type: 'ack_timeout', actor: 'opsbot', text: inc.ackBy ?? '' },
        },
      ],
      sync: [{ inc: inc.id }],
    });
  }

  /**
   * `/escalate` or the Escalate button: the pending level fires now. When no level is pending (the
   * incident is acknowledged, or its chain ended at the last level), the chain starts again from
   * level 0 in a new loop and an acknowledged incident goes back to triggered (its responder asked
   * for help).
   */
  async function escalateNow(
    inc: Incident,
    actor: string,
  ): Promise<'ok' | 'no_policy' | 'resolved' | 'stale'> {
    if (inc.state === 'resolved') return 'resolved';
    if (!policyFor(inc)) return 'no_policy';
    const now = clock.now();
    const f = escalationFields(keys, inc.id);
    const timeline = [{ inc: inc.id, entry: { t: now, type: 'escalate_requested', actor } }];
    let plan: EffectPlan;
    if (inc.state === 'triggered' && inc.escStep) {
      // the pending step fires now, through a timer of its own (the scheduled one is cancelled)
      const [loop, level] = inc.escStep.split(':').map(Number) as [number, number];
      const timer = plans.escTimer(
        inc.id,
        { loop, level, due: now },
        plans.escTimerId(inc.id, loop, level, `m${now}`),
      );
      plan = {
        guards: [f.whenState(inc.state), f.whenStep(inc.escStep)],
        cancel: [inc.escTimer ?? ''].filter(Boolean),
        hset: [f.setTimer(timer.id)],
        timers: [timer],
        timeline,
      };
    } else {
      plan = {
        guards: [f.whenState(inc.state)],
        ...restartChain(inc, now, [f.setState('triggered')]),
        timeline,
        sync: [{ inc: inc.id }],
      };
    }
    const r = await repo.apply(plan);
    timers.notify();
    return r === 'ok' ? 'ok' : 'stale';
  }

  timers.registerBatch('esc', firing.fireLevels);
  timers.register('breach', fireBreach);
  timers.register('remind', fireRemind);
  timers.register('reack', fireReack);

  return {
    creationPlan,
    firstLevelPeople: policies.firstLevelPeople,
    ackEffects,
    escalateNow,
    onCall: policies.onCall,
    runtimeOverrides: policies.runtimeOverrides,
    policyFor,
    restartChain,
    /** Waits for webhook deliveries in flight (shutdown). */
    drainWebhooks: webhooks.drain,
  };
}

export type Escalation = ReturnType<typeof createEscalation>;
