import type { Clock } from '../clock.js';
import type { Escalation } from '../escalation/engine.js';
import type { Severity } from '../domain/severity.js';
import { CHECKLIST_SEVERITIES } from './checklist.js';
import { incidentFields, type PlanKeys } from '../store/incident-plans.js';
import type { Incident, IncidentRole } from '../domain/incident.js';
import { mergePlans, type EffectPlan, type IncidentRepository } from '../store/incidents.js';

/** Who acted and where, for side effects that name them (an Alertmanager silence's createdBy and link). */
export interface ActionMeta {
  username?: string;
  /** Chat key of the message acted on. */
  chat?: string;
  messageId?: number;
  /**
   * The incident as read ahead with the press that asks for this (see bot/press-reads.ts): the
   * first attempt builds on it instead of reading again. Its guards make a stale one harmless.
   */
  seen?: Incident;
}

/** More effects for an action's atomic plan, built from the incident as the guard sees it. */
export type ExtraEffects = (inc: Incident, now: number) => EffectPlan | undefined;

/** Severities whose first acknowledger becomes the incident commander. */
const COMMANDED = new Set<Severity>(['P0', 'P1']);

export type ActionResult =
  | { ok: true; inc: Incident }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'already'; inc: Incident }
  | { ok: false; reason: 'resolved'; inc: Incident }
  | { ok: false; reason: 'invalid'; inc: Incident };

/**
 * Incident state changes from people (buttons and commands). Each is one guarded atomic plan:
 * of two concurrent presses exactly one passes its guard; the other is told who was first.
 */
export function createIncidentActions(deps: {
  repo: IncidentRepository;
  keys: PlanKeys;
  clock: Clock;
  escalation: Escalation;
  /** Side effects of acknowledging (silence_on_ack), in the same atomic step as the ack. */
  onAck?: (id: string, actor: string, meta?: ActionMeta) => Promise<ExtraEffects | undefined>;
  /** Called after a resolution or unacknowledgement took effect. */
  onRelease?: (id: string) => Promise<void>;
}) {
  const { repo, keys, clock, escalation } = deps;
  const released = async (r: ActionResult, id: string) => {
    if (r.ok) await deps.onRelease?.(id).catch(() => undefined);
    return r;
  };

  async function attempt(
    id: string,
    build: (inc: Incident, now: number) => EffectPlan | ActionResult,
    seen?: Incident,
  ): Promise<ActionResult> {
    for (let i = 0; i < 3; i++) {
      const inc = i === 0 && seen?.id === id ? seen : await repo.get(id);
      if (!inc) return { ok: false, reason: 'not_found' };
      const now = clock.now();
      const plan = build(inc, now);
      if ('ok' in plan) return plan;
      // the incident as this change left it comes back with the change: no second read
      const r = await repo.applyThenGet(plan, id);
      if (r.result === 'ok') return { ok: true, inc: r.inc! };
    }
    const inc = await repo.get(id);
    return inc ? { ok: false, reason: 'already', inc } : { ok: false, reason: 'not_found' };
  }

  const tl = (inc: Incident, now: number, type: string, actor: string, text?: string) => ({
    inc: inc.id,
    entry: { t: now, type, actor, ...(text ? { text } : {}) },
  });

  return {
    async acknowledge(id: string, actor: string, meta?: ActionMeta): Promise<ActionResult> {
      const extra = await deps.onAck?.(id, actor, meta);
      return attempt(
        id,
        (inc, now) => {
          if (inc.state === 'resolved') return { ok: false, reason: 'resolved', inc };
          if (inc.state === 'acknowledged') return { ok: false, reason: 'already', inc };
          const f = incidentFields(keys, id);
          const fx = escalation.ackEffects(inc, now);
          // the first acknowledger of a P0/P1 becomes commander unless someone already is: the guard
          // makes it part of this one atomic step (a commander named meanwhile makes it retry without)
          const command = COMMANDED.has(inc.severity) && !inc.roles?.commander;
          const plan: EffectPlan = {
            guards: [
              f.is('state', 'triggered'),
              ...(command ? [f.roleHeldBy('commander', undefined)] : []),
            ],
            hset: [
              ...f.set({
                state: 'acknowledged',
                ackAt: now,
                ackBy: actor,
                ...(inc.assignee ? {} : { assignee: actor }),
              }),
              ...(command ? [f.setRole('commander', actor)] : []),
            ],
            ...fx,
            timeline: [
              tl(inc, now, 'acknowledged', actor),
              ...(command
                ? [
                    {
                      inc: id,
                      entry: {
                        t: now,
                        type: 'role',
                        actor,
                        text: `commander: ${actor}`,
                        data: { role: 'commander', to: actor, first_ack: true },
                      },
                    },
                  ]
                : []),
            ],
            sync: [{ inc: id }],
          };
          return extra ? mergePlans(plan, extra(inc, now)) : plan;
        },
        meta?.seen,
      );
    },

    async unacknowledge(id: string, actor: string, meta?: ActionMeta): Promise<ActionResult> {
      const r = await attempt(
        id,
        (inc, now) => {
          if (inc.state !== 'acknowledged')
            return { ok: false, reason: inc.state === 'resolved' ? 'resolved' : 'invalid', inc };
          const f = incidentFields(keys, id);
          return {
            guards: [f.is('state', 'acknowledged')],
            ...escalation.restartChain(inc, now, f.set({ state: 'triggered' })),
            timeline: [tl(inc, now, 'unacknowledged', actor)],
            sync: [{ inc: id }],
          };
        },
        meta?.seen,
      );
      return released(r, id);
    },

    async resolve(
      id: string,
      actor: string,
      note?: string,
      meta?: ActionMeta,
    ): Promise<ActionResult> {
      const r = await attempt(
        id,
        (inc, now) => {
          if (inc.state === 'resolved') return { ok: false, reason: 'already', inc };
          const f = incidentFields(keys, id);
          return {
            guards: [f.isNot('state', 'resolved'), f.exists()],
            hset: f.set({ state: 'resolved', resolvedAt: now, resolvedBy: actor }),
            hdel: f.unset('escStep'),
            cancel: [inc.escTimer ?? '', `breach:${id}`].filter(Boolean),
            del: [f.dedupKey(inc)],
            timeline: [tl(inc, now, 'resolved', actor, note)],
            sync: [{ inc: id }],
            outbox:
              CHECKLIST_SEVERITIES.has(inc.severity) && inc.chats[0]
                ? [
                    {
                      chat: inc.chats[0],
                      kind: 'checklist',
                      data: { inc: id },
                      coalesce: `checklist:${id}`,
                    },
                  ]
                : [],
          };
        },
        meta?.seen,
      );
      return released(r, id);
    },

    note(
      id: string,
      actor: string,
      text: string,
      type: 'note' | 'update' = 'note',
    ): Promise<ActionResult> {
      const f = incidentFields(keys, id);
      return attempt(id, (inc, now) => ({
        guards: [f.exists()],
        hset: f.set({ lastUpdateAt: now }),
        timeline: [tl(inc, now, type, actor, text)],
      }));
    },

    /**
     * Changes the title and/or the description (Opsgenie's update message and description, which
     * Alertmanager's `update_alerts` sends after every notification): `already` when nothing
     * differs, so a repeated update writes nothing and edits no card.
     */
    retitle(
      id: string,
      actor: string,
      change: { title?: string; description?: string },
    ): Promise<ActionResult> {
      return attempt(id, (inc, now) => {
        const title = change.title !== inc.title ? change.title : undefined;
        const description = change.description !== inc.description ? change.description : undefined;
        if (title === undefined && description === undefined)
          return { ok: false, reason: 'already', inc };
        const f = incidentFields(keys, id);
        return {
          guards: [f.exists()],
          hset: f.set({ title, description }),
          timeline: [tl(inc, now, 'retitled', actor, title ?? 'description updated')],
          sync: [{ inc: id }],
        };
      });
    },

    setSeverity(id: string, actor: string, severity: Severity): Promise<ActionResult> {
      return attempt(id, (inc, now) => {
        if (inc.state === 'resolved') return { ok: false, reason: 'resolved', inc };
        if (inc.severity === severity) return { ok: false, reason: 'already', inc };
        const f = incidentFields(keys, id);
        return {
          guards: [f.is('severity', inc.severity)],
          hset: f.set({ severity }),
          timeline: [tl(inc, now, 'severity', actor, `${inc.severity} → ${severity}`)],
          sync: [{ inc: id }],
        };
      });
    },

    assign(id: string, actor: string, assignee: string): Promise<ActionResult> {
      return attempt(id, (inc, now) => {
        if (inc.state === 'resolved') return { ok: false, reason: 'resolved', inc };
        const f = incidentFields(keys, id);
        return {
          guards: [f.isNot('state', 'resolved')],
          hset: f.set({ assignee }),
          timeline: [tl(inc, now, 'assigned', actor, assignee)],
          sync: [{ inc: id }],
        };
      });
    },

    /**
     * Gives `person` an incident role; a role changing hands is a handover, recorded as such. Guarded
     * on the previous holder, so of two concurrent assignments each handover names who it replaced.
     */
    setRole(id: string, actor: string, role: IncidentRole, person: string): Promise<ActionResult> {
      return attempt(id, (inc, now) => {
        if (inc.state === 'resolved') return { ok: false, reason: 'resolved', inc };
        const from = inc.roles?.[role];
        if (from === person) return { ok: false, reason: 'already', inc };
        const f = incidentFields(keys, id);
        return {
          guards: [f.isNot('state', 'resolved'), f.roleHeldBy(role, from)],
          hset: [f.setRole(role, person)],
          timeline: [
            {
              inc: id,
              entry: {
                t: now,
                type: 'role',
                actor,
                text: from ? `${role}: ${from} → ${person}` : `${role}: ${person}`,
                data: { role, to: person, ...(from ? { from } : {}) },
              },
            },
          ],
          sync: [{ inc: id }],
        };
      });
    },

    /** What someone wrote in the incident's war-room topic, kept on its timeline (not a status update). */
    said(id: string, actor: string, text: string, data: Record<string, unknown>) {
      return repo.apply({
        guards: [incidentFields(keys, id).exists()],
        timeline: [{ inc: id, entry: { t: clock.now(), type: 'chat', actor, text, data } }],
      });
    },

    /** Silences one incident's notifications and escalation until `until` (Infinity: until resolved). */
    silence(
      id: string,
      actor: string,
      until: number,
      label: string,
      extra?: ExtraEffects,
    ): Promise<ActionResult> {
      return attempt(id, (inc, now) => {
        if (inc.state === 'resolved') return { ok: false, reason: 'resolved', inc };
        const f = incidentFields(keys, id);
        const value = Number.isFinite(until) ? until : 8_640_000_000_000_000;
        return mergePlans(
          {
            guards: [f.isNot('state', 'resolved')],
            hset: f.set({ silencedUntil: value }),
            timeline: [tl(inc, now, 'silenced', actor, label)],
            sync: [{ inc: id }],
          },
          extra?.(inc, now),
        );
      });
    },

    /** Ends an incident's silence (the Unsilence button); `extra` joins the same atomic step. */
    unsilence(id: string, actor: string, extra?: EffectPlan): Promise<ActionResult> {
      return attempt(id, (inc, now) => {
        if (!inc.silencedUntil || inc.silencedUntil <= now)
          return extra?.timers?.length
            ? mergePlans(extra, { timeline: [tl(inc, now, 'unsilenced', actor)] })
            : { ok: false, reason: 'invalid', inc };
        const f = incidentFields(keys, id);
        return mergePlans(
          {
            guards: [f.is('silencedUntil', inc.silencedUntil)],
            hdel: f.unset('silencedUntil'),
            timeline: [tl(inc, now, 'unsilenced', actor)],
            sync: [{ inc: id }],
          },
          extra,
        );
      });
    },

    async escalate(
      id: string,
      actor: string,
    ): Promise<ActionResult | { ok: false; reason: 'no_policy'; inc: Incident }> {
      const inc = await repo.get(id);
      if (!inc) return { ok: false, reason: 'not_found' };
      const r = await escalation.escalateNow(inc, actor);
      if (r === 'resolved') return { ok: false, reason: 'resolved', inc };
      if (r === 'no_policy') return { ok: false, reason: 'no_policy', inc };
      if (r === 'stale') return { ok: false, reason: 'already', inc };
      return { ok: true, inc: (await repo.get(id))! };
    },
  };
}

export type IncidentActions = ReturnType<typeof createIncidentActions>;
