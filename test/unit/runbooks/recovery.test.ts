import { describe, expect, it } from 'vitest';
import type { AuditLog } from '../../../src/audit.js';
import { FakeClock } from '../../../src/clock.js';
import type { RunRecord } from '../../../src/domain/runs.js';
import type { EffectPlan, IncidentRepository } from '../../../src/store/incidents.js';
import { createLogger } from '../../../src/logger.js';
import type { RunbookMessages } from '../../../src/runbooks/messages.js';
import { createRecovery } from '../../../src/runbooks/recovery.js';
import type { LockStore } from '../../../src/store/locks.js';
import type { RunStore } from '../../../src/store/runs.js';

/** In-memory run and lock stores, and recorders for what recovery tells the outside. */
function setup(
  records: Record<string, RunRecord>,
  opts: { alive?: string[]; running?: string[] } = {},
) {
  const clock = new FakeClock();
  const active = new Set(Object.keys(records));
  const claimed = new Set<string>();
  const interrupted: string[] = [];
  const released: [string, string][] = [];
  const audits: { event: string; data: unknown }[] = [];
  const plans: EffectPlan[] = [];
  const runs = {
    activeIds: async () => [...active],
    isAlive: async (id: string) => (opts.alive ?? []).includes(id),
    get: async (id: string) => records[id] ?? { aliveAt: 0 },
    claimRecovery: async (id: string) => !claimed.has(id) && (claimed.add(id), true),
    markInterrupted: async (id: string) => {
      interrupted.push(id);
      active.delete(id);
    },
  } as unknown as RunStore;
  const locks = {
    release: async (name: string, holder: string) => void released.push([name, holder]),
  } as unknown as LockStore;
  const messages = {
    interrupted: (id: string, locale: string) => `interrupted ${id} (${locale})`,
  } as unknown as RunbookMessages;
  const recovery = createRecovery(
    {
      runs,
      locks,
      clock,
      repo: {
        apply: async (p: EffectPlan) => (plans.push(p), 'ok'),
      } as unknown as IncidentRepository,
      audit: {
        append: async (event: string, _actor: unknown, data: unknown) =>
          void audits.push({ event, data }),
      } as unknown as AuditLog,
      messages,
      localeOf: async () => 'en',
      logger: createLogger('silent'),
      instanceId: 'me',
      host: 'here',
    },
    { isRunning: (id) => (opts.running ?? []).includes(id), renewLeases: () => {} },
  );
  return { recovery, clock, interrupted, released, audits, plans, claimed };
}

const dead = (over: Partial<RunRecord> = {}): RunRecord => ({
  id: 'r1',
  runbook: 'disk',
  state: 'running',
  chat: '-100',
  messageId: 7,
  incident: 'INC-3',
  lock: 'disk-lock',
  lockHolder: '{"run":"r1","by":"bob"}',
  host: 'here',
  aliveAt: 0,
  token: 'tok',
  ...over,
});

describe('runbook recovery', () => {
  it('a run whose instance died is marked interrupted, its lock released, its incident and message told', async () => {
    const s = setup({ r1: dead() });
    expect(await s.recovery.recoverInterrupted()).toEqual(['r1']);
    expect(s.interrupted).toEqual(['r1']);
    expect(s.released).toEqual([['disk-lock', '{"run":"r1","by":"bob"}']]);
    expect(s.audits).toEqual([{ event: 'run.interrupted', data: { run: 'r1', runbook: 'disk' } }]);
    expect(s.plans[0]!.timeline![0]).toMatchObject({
      inc: 'INC-3',
      entry: { type: 'runbook_interrupted', actor: 'opsbot', text: 'disk' },
    });
    expect(s.plans[1]!.outbox).toEqual([
      {
        chat: '-100',
        kind: 'edit',
        data: { message_id: 7, text: 'interrupted disk (en)', keyboard: undefined },
        coalesce: 'run:tok',
      },
    ]);
  });

  it('leaves runs that are alive, running here, or claimed by another instance', async () => {
    const s = setup(
      { r1: dead({ id: 'r1' }), r2: dead({ id: 'r2' }), r3: dead({ id: 'r3' }) },
      { alive: ['r1'], running: ['r2'] },
    );
    s.claimed.add('r3');
    expect(await s.recovery.recoverInterrupted()).toEqual([]);
    expect(s.interrupted).toEqual([]);
    expect(s.released).toEqual([]);
  });

  it('a step group on another host is left to that host for 10 minutes, then marked without a kill', async () => {
    const now = Date.now();
    const s = setup({ r1: dead({ host: 'there', pgid: 4242, aliveAt: now - 60_000 }) });
    expect(await s.recovery.recoverInterrupted()).toEqual([]);
    const later = setup({ r1: dead({ host: 'there', pgid: 4242, aliveAt: now - 11 * 60_000 }) });
    expect(await later.recovery.recoverInterrupted()).toEqual(['r1']);
    expect(later.audits[0]!.data).toEqual({
      run: 'r1',
      runbook: 'disk',
      pgid: 4242,
      host: 'there',
      killed: false,
    });
  });

  it('a run without a message or incident is only marked and unlocked', async () => {
    const s = setup({ r1: dead({ chat: undefined, messageId: undefined, incident: undefined }) });
    expect(await s.recovery.recoverInterrupted()).toEqual(['r1']);
    expect(s.plans).toEqual([]);
    expect(s.released).toHaveLength(1);
  });
});
