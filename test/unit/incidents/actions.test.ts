import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/clock.js';
import type { Incident } from '../../../src/domain/incident.js';
import type { Escalation } from '../../../src/escalation/engine.js';
import { createIncidentActions, type ActionMeta } from '../../../src/incidents/actions.js';
import type { EffectPlan, EffectResult, IncidentRepository } from '../../../src/store/incidents.js';
import { createKeys } from '../../../src/store/keys.js';
import { makeIncident } from '../../helpers/incident.js';

const keys = createKeys('t:');
const IK = keys.incident('INC-1');

/** The incident hash field a plan names, read from the stored incident (for guards). */
function field(inc: Incident, f: string): string | undefined {
  if (f.startsWith('role_')) return inc.roles?.[f.slice(5) as 'commander'];
  const v = {
    id: inc.id,
    state: inc.state,
    severity: inc.severity,
    assignee: inc.assignee,
    silenced_until: inc.silencedUntil,
  }[f];
  return v === undefined ? undefined : String(v);
}

/** Writes a plan's hset to the stored incident, as Redis would to its hash. */
function write(inc: Incident, f: string, v: string | number) {
  if (f.startsWith('role_')) inc.roles = { ...inc.roles, [f.slice(5)]: String(v) };
  else if (f === 'state') inc.state = v as Incident['state'];
  else if (f === 'severity') inc.severity = v as Incident['severity'];
  else if (f === 'assignee') inc.assignee = String(v);
  else if (f === 'ack_at') inc.ackAt = Number(v);
  else if (f === 'ack_by') inc.ackBy = String(v);
  else if (f === 'resolved_at') inc.resolvedAt = Number(v);
  else if (f === 'resolved_by') inc.resolvedBy = String(v);
  else if (f === 'last_update_at') inc.lastUpdateAt = Number(v);
}

/**
 * An in-memory repository: `get` reads a copy, `apply` records the plan, runs `meanwhile` (what
 * another replica does between this read and this write), then checks the guards as the Lua
 * script does and writes the hset, or answers `stale`. `force` answers a result without looking.
 */
function fakeRepo(initial?: Incident) {
  const store = new Map<string, Incident>();
  if (initial) store.set(initial.id, structuredClone(initial));
  const plans: EffectPlan[] = [];
  const fake = {
    store,
    plans,
    meanwhile: [] as ((store: Map<string, Incident>) => void)[],
    force: [] as EffectResult[],
    async get(id: string) {
      const inc = store.get(id);
      return inc ? structuredClone(inc) : null;
    },
    async apply(plan: EffectPlan): Promise<EffectResult> {
      plans.push(plan);
      fake.meanwhile.shift()?.(store);
      const forced = fake.force.shift();
      if (forced) return forced;
      const inc = store.get('INC-1');
      if (!inc) return 'stale';
      for (const g of plan.guards ?? []) {
        const v = field(inc, g.field);
        if (g.eq !== undefined && v !== g.eq) return 'stale';
        if (g.ne !== undefined && v === g.ne) return 'stale';
        if (g.missing && v !== undefined) return 'stale';
        if (g.exists && v === undefined) return 'stale';
      }
      for (const h of plan.hset ?? []) if (h.key === IK) write(inc, h.field, h.value);
      return 'ok';
    },
    /** `apply`, then the incident as it is after the change, as apply_effects.lua's `read` gives it. */
    async applyThenGet(plan: EffectPlan, id: string) {
      const result = await fake.apply(plan);
      const inc = result === 'ok' ? await fake.get(id) : null;
      return inc ? { result, inc } : { result };
    },
  };
  return fake;
}

/** An escalation whose effects are markers, so a test sees they joined the plan. */
const escalation = {
  ackEffects: (inc: Incident, now: number) => ({
    cancel: [`esc:${inc.id}`],
    timers: [{ id: `remind:${inc.id}`, due: now + 1, data: {} }],
  }),
  restartChain: (inc: Incident, now: number, hset: NonNullable<EffectPlan['hset']> = []) => ({
    hset: [...hset, { key: keys.incident(inc.id), field: 'esc_step', value: '1:0' }],
    timers: [{ id: `esc:${inc.id}:restart`, due: now, data: {} }],
  }),
} as unknown as Escalation;

function setup(over: Partial<Incident> = {}, deps: Partial<ActionDeps> = {}) {
  const repo = fakeRepo(makeIncident(over));
  const clock = new FakeClock(Date.parse('2026-01-05T10:00:00Z'));
  const released: string[] = [];
  const actions = createIncidentActions({
    repo: repo as unknown as IncidentRepository,
    keys,
    clock,
    escalation,
    onRelease: async (id) => void released.push(id),
    ...deps,
  });
  return { repo, clock, now: clock.now(), actions, released };
}
type ActionDeps = Parameters<typeof createIncidentActions>[0];

const hsetOf = (p: EffectPlan | undefined) =>
  Object.fromEntries((p?.hset ?? []).map((h) => [h.field, h.value]));

describe('acknowledge', () => {
  it('takes a triggered incident, guarded on state triggered, with the escalation ack effects', async () => {
    const { repo, actions, now } = setup();
    const r = await actions.acknowledge('INC-1', 'alice');
    expect(r).toMatchObject({ ok: true, inc: { state: 'acknowledged', ackBy: 'alice' } });
    const [plan] = repo.plans;
    expect(plan!.guards).toEqual([{ key: IK, field: 'state', eq: 'triggered' }]);
    expect(hsetOf(plan)).toEqual({
      state: 'acknowledged',
      ack_at: now,
      ack_by: 'alice',
      assignee: 'alice',
    });
    expect(plan!.cancel).toEqual(['esc:INC-1']);
    expect(plan!.timers).toEqual([{ id: 'remind:INC-1', due: now + 1, data: {} }]);
    expect(plan!.timeline).toEqual([
      { inc: 'INC-1', entry: { t: now, type: 'acknowledged', actor: 'alice' } },
    ]);
    expect(plan!.sync).toEqual([{ inc: 'INC-1' }]);
  });

  it('keeps an assignee already set', async () => {
    const { repo, actions } = setup({ assignee: 'carol' });
    await actions.acknowledge('INC-1', 'alice');
    expect(hsetOf(repo.plans[0])).not.toHaveProperty('assignee');
    expect(repo.store.get('INC-1')!.assignee).toBe('carol');
  });

  it('refuses an acknowledged or resolved incident without writing anything', async () => {
    const acked = setup({ state: 'acknowledged', ackBy: 'bob' });
    expect(await acked.actions.acknowledge('INC-1', 'alice')).toMatchObject({
      ok: false,
      reason: 'already',
      inc: { ackBy: 'bob' },
    });
    expect(acked.repo.plans).toEqual([]);
    const resolved = setup({ state: 'resolved' });
    expect(await resolved.actions.acknowledge('INC-1', 'alice')).toMatchObject({
      ok: false,
      reason: 'resolved',
    });
    expect(resolved.repo.plans).toEqual([]);
  });

  it('makes the first acknowledger of a P0 or P1 its commander, in the same guarded step', async () => {
    for (const severity of ['P0', 'P1'] as const) {
      const { repo, actions, now } = setup({ severity });
      const r = await actions.acknowledge('INC-1', 'alice');
      expect(r).toMatchObject({ ok: true, inc: { roles: { commander: 'alice' } } });
      const [plan] = repo.plans;
      expect(plan!.guards).toContainEqual({ key: IK, field: 'role_commander', missing: true });
      expect(hsetOf(plan).role_commander).toBe('alice');
      expect(plan!.timeline).toContainEqual({
        inc: 'INC-1',
        entry: {
          t: now,
          type: 'role',
          actor: 'alice',
          text: 'commander: alice',
          data: { role: 'commander', to: 'alice', first_ack: true },
        },
      });
    }
  });

  it('names no commander for P2/P3, nor when a P0 already has one', async () => {
    for (const over of [
      { severity: 'P2' },
      { severity: 'P3' },
      { severity: 'P0', roles: { commander: 'bob' } },
    ] as const) {
      const { repo, actions } = setup(over);
      expect((await actions.acknowledge('INC-1', 'alice')).ok).toBe(true);
      expect(hsetOf(repo.plans[0])).not.toHaveProperty('role_commander');
      expect(repo.plans[0]!.timeline!.map((e) => e.entry.type)).toEqual(['acknowledged']);
    }
  });

  it('adds the onAck effects (silence_on_ack) to the same plan, told who acted and where', async () => {
    const seen: unknown[] = [];
    const meta: ActionMeta = { username: 'al', chat: '-100', messageId: 7 };
    const { repo, actions } = setup(
      {},
      {
        onAck: async (id, actor, m) => {
          seen.push([id, actor, m]);
          return (inc) => ({
            outbox: [{ chat: 'x', kind: 'text' as const, data: { text: 'silenced', inc: inc.id } }],
          });
        },
      },
    );
    await actions.acknowledge('INC-1', 'alice', meta);
    expect(seen).toEqual([['INC-1', 'alice', meta]]);
    expect(repo.plans[0]!.outbox).toEqual([
      { chat: 'x', kind: 'text', data: { text: 'silenced', inc: 'INC-1' } },
    ]);
    expect(repo.plans[0]!.guards).toContainEqual({ key: IK, field: 'state', eq: 'triggered' });
  });
});

describe('unacknowledge', () => {
  it('puts an acknowledged incident back to triggered and restarts the chain', async () => {
    const { repo, actions, now, released } = setup({ state: 'acknowledged', ackBy: 'bob' });
    const r = await actions.unacknowledge('INC-1', 'alice');
    expect(r).toMatchObject({ ok: true, inc: { state: 'triggered' } });
    const [plan] = repo.plans;
    expect(plan!.guards).toEqual([{ key: IK, field: 'state', eq: 'acknowledged' }]);
    expect(hsetOf(plan)).toEqual({ state: 'triggered', esc_step: '1:0' });
    expect(plan!.timers).toEqual([{ id: 'esc:INC-1:restart', due: now, data: {} }]);
    expect(plan!.timeline).toEqual([
      { inc: 'INC-1', entry: { t: now, type: 'unacknowledged', actor: 'alice' } },
    ]);
    expect(released).toEqual(['INC-1']);
  });

  it('refuses a triggered (invalid) or resolved incident, releasing nothing', async () => {
    for (const [state, reason] of [
      ['triggered', 'invalid'],
      ['resolved', 'resolved'],
    ] as const) {
      const { repo, actions, released } = setup({ state });
      expect(await actions.unacknowledge('INC-1', 'alice')).toMatchObject({ ok: false, reason });
      expect(repo.plans).toEqual([]);
      expect(released).toEqual([]);
    }
  });
});

describe('resolve', () => {
  it('resolves from any open state, cancels its timers, frees its dedup key', async () => {
    for (const state of ['triggered', 'acknowledged'] as const) {
      const { repo, actions, now, released } = setup({
        state,
        severity: 'P2',
        escTimer: 'esc:INC-1:0:1',
      });
      const r = await actions.resolve('INC-1', 'alice', 'rolled back');
      expect(r).toMatchObject({ ok: true, inc: { state: 'resolved', resolvedBy: 'alice' } });
      const [plan] = repo.plans;
      expect(plan!.guards).toEqual([
        { key: IK, field: 'state', ne: 'resolved' },
        { key: IK, field: 'id', eq: 'INC-1' },
      ]);
      expect(hsetOf(plan)).toEqual({ state: 'resolved', resolved_at: now, resolved_by: 'alice' });
      expect(plan!.hdel).toEqual([{ key: IK, field: 'esc_step' }]);
      expect(plan!.cancel).toEqual(['esc:INC-1:0:1', 'breach:INC-1']);
      expect(plan!.del).toEqual([keys.dedup('prometheus/g1')]);
      expect(plan!.timeline).toEqual([
        {
          inc: 'INC-1',
          entry: { t: now, type: 'resolved', actor: 'alice', text: 'rolled back' },
        },
      ]);
      expect(plan!.outbox).toEqual([]);
      expect(released).toEqual(['INC-1']);
    }
  });

  it('posts the checklist to the first chat for P0 and P1 only', async () => {
    for (const severity of ['P0', 'P1'] as const) {
      const { repo, actions } = setup({ severity, chats: ['-100', '-200'] });
      await actions.resolve('INC-1', 'alice');
      expect(repo.plans[0]!.outbox).toEqual([
        { chat: '-100', kind: 'checklist', data: { inc: 'INC-1' }, coalesce: 'checklist:INC-1' },
      ]);
    }
    const noChat = setup({ severity: 'P0', chats: [] });
    await noChat.actions.resolve('INC-1', 'alice');
    expect(noChat.repo.plans[0]!.outbox).toEqual([]);
  });

  it('an incident already resolved is "already", with nothing written or released', async () => {
    const { repo, actions, released } = setup({ state: 'resolved', resolvedBy: 'bob' });
    expect(await actions.resolve('INC-1', 'alice')).toMatchObject({
      ok: false,
      reason: 'already',
      inc: { resolvedBy: 'bob' },
    });
    expect(repo.plans).toEqual([]);
    expect(released).toEqual([]);
  });
});

describe('note, severity, assign', () => {
  it('a note or status update goes on the timeline and stamps last_update_at', async () => {
    const { repo, actions, now } = setup({ state: 'resolved' });
    expect((await actions.note('INC-1', 'alice', 'db failover done')).ok).toBe(true);
    expect((await actions.note('INC-1', 'bob', 'ETA 10m', 'update')).ok).toBe(true);
    expect(repo.plans.map((p) => p.timeline![0]!.entry)).toEqual([
      { t: now, type: 'note', actor: 'alice', text: 'db failover done' },
      { t: now, type: 'update', actor: 'bob', text: 'ETA 10m' },
    ]);
    expect(repo.plans[0]!.guards).toEqual([{ key: IK, field: 'id', eq: 'INC-1' }]);
    expect(hsetOf(repo.plans[0])).toEqual({ last_update_at: now });
    expect(repo.store.get('INC-1')!.lastUpdateAt).toBe(now);
  });

  it('severity changes are guarded on the old severity and say old → new', async () => {
    const { repo, actions, now } = setup({ severity: 'P2' });
    expect(await actions.setSeverity('INC-1', 'alice', 'P0')).toMatchObject({
      ok: true,
      inc: { severity: 'P0' },
    });
    const [plan] = repo.plans;
    expect(plan!.guards).toEqual([{ key: IK, field: 'severity', eq: 'P2' }]);
    expect(plan!.timeline![0]!.entry).toEqual({
      t: now,
      type: 'severity',
      actor: 'alice',
      text: 'P2 → P0',
    });
  });

  it('the same severity is "already"; a resolved incident keeps its severity', async () => {
    const same = setup({ severity: 'P1' });
    expect(await same.actions.setSeverity('INC-1', 'alice', 'P1')).toMatchObject({
      reason: 'already',
    });
    const resolved = setup({ state: 'resolved' });
    expect(await resolved.actions.setSeverity('INC-1', 'alice', 'P0')).toMatchObject({
      reason: 'resolved',
    });
    expect([...same.repo.plans, ...resolved.repo.plans]).toEqual([]);
  });

  it('assign sets the assignee of an open incident, refuses a resolved one', async () => {
    const { repo, actions, now } = setup({ assignee: 'alice' });
    expect(await actions.assign('INC-1', 'alice', 'bob')).toMatchObject({
      ok: true,
      inc: { assignee: 'bob' },
    });
    expect(repo.plans[0]!.guards).toEqual([{ key: IK, field: 'state', ne: 'resolved' }]);
    expect(repo.plans[0]!.timeline![0]!.entry).toEqual({
      t: now,
      type: 'assigned',
      actor: 'alice',
      text: 'bob',
    });
    const resolved = setup({ state: 'resolved' });
    expect(await resolved.actions.assign('INC-1', 'alice', 'bob')).toMatchObject({
      reason: 'resolved',
    });
    expect(resolved.repo.plans).toEqual([]);
  });
});

describe('a guard that fails is retried on a fresh read', () => {
  it('a commander named meanwhile: the ack retries and succeeds without taking command', async () => {
    const { repo, actions } = setup({ severity: 'P0' });
    repo.meanwhile.push((s) => (s.get('INC-1')!.roles = { commander: 'bob' }));
    const r = await actions.acknowledge('INC-1', 'alice');
    expect(r).toMatchObject({ ok: true, inc: { ackBy: 'alice', roles: { commander: 'bob' } } });
    expect(repo.plans.map((p) => hsetOf(p).role_commander)).toEqual(['alice', undefined]);
  });

  it('an ack by someone else meanwhile: the second read says who was first', async () => {
    const { repo, actions } = setup();
    repo.meanwhile.push((s) =>
      Object.assign(s.get('INC-1')!, { state: 'acknowledged', ackBy: 'bob' }),
    );
    const r = await actions.acknowledge('INC-1', 'alice');
    expect(r).toMatchObject({ ok: false, reason: 'already', inc: { ackBy: 'bob' } });
    expect(repo.plans).toHaveLength(1);
  });

  it('a severity changed meanwhile: the retry is guarded on the new one', async () => {
    const { repo, actions, now } = setup({ severity: 'P2' });
    repo.meanwhile.push((s) => (s.get('INC-1')!.severity = 'P1'));
    expect((await actions.setSeverity('INC-1', 'alice', 'P0')).ok).toBe(true);
    expect(repo.plans.map((p) => p.guards![0]!.eq)).toEqual(['P2', 'P1']);
    expect(repo.plans[1]!.timeline![0]!.entry).toMatchObject({ t: now, text: 'P1 → P0' });
  });

  it('gives up after three stale writes and answers with the incident as it is', async () => {
    const { repo, actions, released } = setup({ state: 'acknowledged' });
    repo.force.push('stale', 'stale', 'stale', 'stale');
    const r = await actions.resolve('INC-1', 'alice');
    expect(r).toMatchObject({ ok: false, reason: 'already', inc: { state: 'acknowledged' } });
    expect(repo.plans).toHaveLength(3);
    expect(released).toEqual([]);
  });

  it('an incident gone meanwhile (or never there) is not_found', async () => {
    const { repo, actions } = setup();
    repo.meanwhile.push((s) => s.delete('INC-1'));
    expect(await actions.note('INC-1', 'alice', 'x')).toEqual({ ok: false, reason: 'not_found' });
    expect(await actions.acknowledge('INC-9', 'alice')).toEqual({ ok: false, reason: 'not_found' });
  });
});
