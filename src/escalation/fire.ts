import type { Clock } from '../clock.js';
import type { TimerDataOf } from '../domain/timers.js';
import type { EffectPlan, IncidentRepository } from '../store/incidents.js';
import { matchingSuppression, type SuppressionStore } from '../incidents/silences.js';
import type { Suppression } from '../domain/suppression.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { TimerService } from '../scheduler/timers.js';
import type { EscalationState } from '../store/escalation.js';
import type { Keys } from '../store/keys.js';
import { levelPlan, suppressedPlan } from './plans.js';
import type { Policies } from './policy.js';

type EscData = TimerDataOf<'esc'>;

/**
 * Firing one escalation level (an `esc` timer): a level acts only if its incident is still triggered
 * and still waiting for exactly this step; a silenced or maintained incident waits; otherwise the
 * level's targets are resolved now and paged in one atomic step with the next step's timer.
 */
export function createLevelFiring(deps: {
  keys: Keys;
  clock: Clock;
  repo: IncidentRepository;
  timers: TimerService;
  policies: Policies;
  silences: SuppressionStore;
  maintenance: SuppressionStore;
  logger: Logger;
  metrics: Metrics;
}) {
  const { keys, clock, repo, timers, policies, logger, metrics } = deps;

  /**
   * The active maintenance windows and silences, one read shared by every level that asks while it is
   * under way: 10,000 levels due at once would otherwise read both lists 10,000 times. The check was
   * never atomic with the firing (a silence set a moment later is missed either way), so a read sent
   * a moment before a level asked is as good as one sent after.
   */
  let lists: Promise<[Suppression[], Suppression[]]> | undefined;
  function suppressions(): Promise<[Suppression[], Suppression[]]> {
    if (!lists) {
      // both read at once: one round trip, not two in a row
      const p = Promise.all([deps.maintenance.active(), deps.silences.active()]);
      lists = p;
      const clear = () => {
        if (lists === p) lists = undefined;
      };
      p.then(clear, clear);
    }
    return lists;
  }

  /** Until when the incident is silenced or in maintenance at `now`, if it is. */
  async function suppressedUntil(inc: EscalationState, now: number): Promise<number | undefined> {
    if (inc.silencedUntil && inc.silencedUntil > now) return inc.silencedUntil;
    const [maint, silences] = await suppressions();
    const m = matchingSuppression(maint, inc.labels, now);
    return m ? m.until : matchingSuppression(silences, inc.labels, now)?.until;
  }

  /** What firing the level does now: its plan (under its once-marker) and the metric's result. */
  async function planOf(
    id: string,
    data: EscData,
    inc: EscalationState | undefined,
    now: number,
  ): Promise<{
    plan: EffectPlan;
    result?: 'stale' | 'suppressed';
    webhooks: boolean;
    paged?: string[];
  }> {
    const settle = { once: id, release: id };
    const policy = inc && policies.policyFor(inc);
    // the level acts only while this timer is still the incident's next step
    if (
      !inc ||
      !policy ||
      inc.state !== 'triggered' ||
      inc.escStep !== `${data.loop}:${data.level}`
    )
      return { plan: settle, result: 'stale', webhooks: false };
    const until = await suppressedUntil(inc, now);
    if (until)
      return {
        plan: { ...settle, ...suppressedPlan(keys, data, until, now) },
        result: 'suppressed',
        webhooks: false,
      };
    const targets = await policies.targetsOf(policy.levels[data.level]!.notify, now);
    const fired = { ...data, loopStart: inc.loopStart ?? inc.createdAt };
    return {
      plan: { ...settle, ...levelPlan(keys, fired, policy, targets, now) },
      webhooks: targets.webhooks.length > 0,
      paged: targets.paged,
    };
  }

  /** Counts and logs a level's outcome; true when it fired and has webhook deliveries to start. */
  function settled(
    data: EscData,
    result: string,
    planned: { webhooks: boolean; paged?: string[] },
  ) {
    metrics.escalations.inc({ result });
    if (result === 'ok')
      logger.info(
        { inc: data.inc, level: data.level, loop: data.loop, paged: planned.paged },
        'escalation level fired',
      );
    return result === 'ok' && planned.webhooks;
  }

  /**
   * Fires a claim's worth of levels together: their incidents are read in one round trip and their
   * plans applied in one script call, each under its own once-marker and guards, so an incident
   * acknowledged meanwhile is skipped while the others fire (10,000 levels due at once pay the
   * script's fixed cost once per batch, not once per level). A plan that failed in the script stays
   * claimed and is retried after its lease, like any timer whose handler failed.
   */
  async function fireLevels(batch: { id: string; data: EscData }[]): Promise<void> {
    const incs = await repo.escalationStates(batch.map((t) => t.data.inc));
    const now = clock.now();
    const planned = await Promise.all(batch.map((t, i) => planOf(t.id, t.data, incs[i], now)));
    const res = await repo.applyMany(planned.map((p) => p.plan));
    let notify = false;
    let failed = 0;
    batch.forEach((t, i) => {
      if (res[i] === 'error') return void failed++;
      if (settled(t.data, planned[i]!.result ?? res[i]!, planned[i]!)) notify = true;
    });
    if (notify) timers.notify();
    if (failed) throw new Error(`${failed} of ${batch.length} levels failed in apply_effects`);
  }

  return { fireLevels };
}
