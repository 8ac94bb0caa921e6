import type { Clock } from '../clock.js';
import type { OpsbotConfig } from '../config.js';
import type { Override } from '../domain/oncall.js';
import type { Incident } from '../domain/incident.js';
import { chatKeyOf } from '../incidents/routing.js';
import { own } from '../own.js';
import { onCallAt } from './schedule.js';

export type EscalationPolicy = OpsbotConfig['escalation_policies'][string];

/** Who one level pages, resolved at one instant. */
export interface LevelTargets {
  /**
   * In the order of the level's `notify` list: configured chats posted into (name and chat key), and
   * people paged in private (directly or as the on-call person of a schedule).
   */
  pages: (
    { chat: string; name: string } | { person: string; telegramId: number; schedule?: string }
  )[];
  /** `webhook:NAME` notifiers called. */
  webhooks: string[];
  /** Everything the level reached, in the order of its `notify` list, for the timeline and card. */
  paged: string[];
}

/** A step of the chain: `loop` counts repeats of the whole chain, `level` indexes its levels. */
export interface ChainStep {
  loop: number;
  level: number;
  due: number;
}

/**
 * What follows a fired level: the next level (due its delay after the loop started), the chain again
 * from level 0 (while repeats remain; after the last level's own delay, at least a minute), or nothing.
 */
export function nextStep(
  policy: EscalationPolicy,
  fired: { loop: number; level: number },
  loopStart: number,
  now: number,
): ChainStep | undefined {
  const { loop, level } = fired;
  if (level + 1 < policy.levels.length)
    return { loop, level: level + 1, due: loopStart + policy.levels[level + 1]!.after };
  if (loop < policy.repeat) {
    const last = policy.levels[level]!.after;
    const prev = level > 0 ? policy.levels[level - 1]!.after : 0;
    return { loop: loop + 1, level: 0, due: now + Math.max(last - prev, 60_000) };
  }
  return undefined;
}

/**
 * Escalation policies and who they page: the policy of a severity, the on-call person of a
 * schedule (rotation plus runtime overrides) and the targets of a level at an instant.
 */
export function createPolicies(deps: {
  config: OpsbotConfig;
  clock: Clock;
  /** Runtime overrides of a schedule still lasting after `now`. */
  overrides: (schedule: string, now: number) => Promise<Override[]>;
}) {
  const { config, clock } = deps;

  const policyFor = (inc: Pick<Incident, 'severity'>): EscalationPolicy | undefined => {
    const name = config.severities[inc.severity]?.policy;
    return name ? own(config.escalation_policies, name) : undefined;
  };

  const runtimeOverrides = (schedule: string) => deps.overrides(schedule, clock.now());

  /** Who `schedule:NAME` means at `at` (now by default). */
  async function onCall(schedule: string, at = clock.now()) {
    const s = own(config.schedules, schedule);
    if (!s) return undefined;
    return onCallAt(s, at, await runtimeOverrides(schedule));
  }

  /** Resolves a level's `notify` list at `at`: schedules to their on-call person. */
  async function targetsOf(notify: string[], at: number): Promise<LevelTargets> {
    const out: LevelTargets = { pages: [], webhooks: [], paged: [] };
    for (const target of notify) {
      const [kind, ref] = target.split(':') as [string, string];
      if (kind === 'webhook') {
        out.webhooks.push(ref);
        out.paged.push(`webhook ${ref}`);
        continue;
      }
      if (kind === 'chat') {
        out.pages.push({ name: ref, chat: chatKeyOf(own(config.chats, ref)!) });
        out.paged.push(`#${ref}`);
        continue;
      }
      let person = ref;
      if (kind === 'schedule') {
        const who = await onCall(ref, at);
        if (!who) {
          out.paged.push(`${ref}: —`);
          continue;
        }
        person = who.person;
      }
      const p = own(config.people, person);
      if (!p) continue;
      const schedule = kind === 'schedule' ? ref : undefined;
      out.pages.push({ person, telegramId: p.telegram_id, ...(schedule ? { schedule } : {}) });
      out.paged.push(schedule ? `${person} (${ref})` : person);
    }
    return out;
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

  return { policyFor, runtimeOverrides, onCall, targetsOf, firstLevelPeople };
}

export type Policies = ReturnType<typeof createPolicies>;
