import type { Clock } from '../clock.js';
import type { TimerDataOf } from '../domain/timers.js';
import type { Incident } from '../domain/incident.js';
import type { IncidentRepository } from '../store/incidents.js';
import { matchingSuppression, type SuppressionStore } from '../incidents/silences.js';
import type { Suppression } from '../domain/suppression.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { TimerService } from '../scheduler/timers.js';
import type { Keys } from '../store/keys.js';
import { levelPlan, suppressedPlan } from './plans.js';
import type { EscalationPolicy, Policies } from './policy.js';

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

  /** The incident and its policy, when this timer is still the incident's next step. */
  async function current(
    data: EscData,
  ): Promise<{ inc: Incident; policy: EscalationPolicy } | undefined> {
    const inc = await repo.get(data.inc);
    const policy = inc && policies.policyFor(inc);
    if (!inc || !policy || inc.state !== 'triggered') return undefined;
    return inc.escStep === `${data.loop}:${data.level}` ? { inc, policy } : undefined;
  }

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

  /** Until when the incident is silenced or in maintenance, if it is. */
  async function suppressedUntil(inc: Incident): Promise<number | undefined> {
    const now = clock.now();
    if (inc.silencedUntil && inc.silencedUntil > now) return inc.silencedUntil;
    const [maint, silences] = await suppressions();
    const m = matchingSuppression(maint, inc.labels, now);
    return m ? m.until : matchingSuppression(silences, inc.labels, now)?.until;
  }

  async function fireLevel(id: string, data: EscData): Promise<void> {
    const settle = { once: id, release: id };
    const found = await current(data);
    if (!found) {
      metrics.escalations.inc({ result: 'stale' });
      await repo.apply(settle);
      return;
    }
    const { inc, policy } = found;
    const now = clock.now();
    const until = await suppressedUntil(inc);
    if (until) {
      metrics.escalations.inc({ result: 'suppressed' });
      await repo.apply({ ...settle, ...suppressedPlan(keys, data, until, now) });
      return;
    }
    const targets = await policies.targetsOf(policy.levels[data.level]!.notify, now);
    const fired = { ...data, loopStart: inc.loopStart ?? inc.createdAt };
    const res = await repo.apply({ ...settle, ...levelPlan(keys, fired, policy, targets, now) });
    if (res === 'ok' && targets.webhooks.length) timers.notify();
    metrics.escalations.inc({ result: res });
    if (res === 'ok')
      logger.info(
        { inc: inc.id, level: data.level, loop: data.loop, paged: targets.paged },
        'escalation level fired',
      );
  }

  return { fireLevel };
}
