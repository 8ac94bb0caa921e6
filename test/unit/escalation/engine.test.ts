import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/clock.js';
import { parseConfig } from '../../../src/config.js';
import type { Notice } from '../../../src/domain/notices.js';
import type { Override } from '../../../src/domain/oncall.js';
import type { TimerData } from '../../../src/domain/timers.js';
import { createEscalation } from '../../../src/escalation/engine.js';
import { createLevelFiring } from '../../../src/escalation/fire.js';
import { levelPlan } from '../../../src/escalation/plans.js';
import { createPolicies } from '../../../src/escalation/policy.js';
import { createI18n } from '../../../src/i18n.js';
import type { Incident } from '../../../src/domain/incident.js';
import type { EffectPlan, IncidentRepository } from '../../../src/store/incidents.js';
import type { SuppressionStore } from '../../../src/incidents/silences.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import type { TimerService } from '../../../src/scheduler/timers.js';
import { createKeys } from '../../../src/store/keys.js';
import { renderNotice } from '../../../src/telegram/views/notices.js';
import { GROUP, PEOPLE, testConfigYaml } from '../../helpers/config.js';
import { makeIncident } from '../../helpers/incident.js';

const H = 3_600_000;
// alice is on call the first week of primary, bob the second (rotation starts at the fake clock's t0)
const config = parseConfig(
  testConfigYaml({
    levels: `      - { after: 0s, notify: ["chat:ops", "schedule:primary"] }
      - { after: 10m, notify: ["person:root", "webhook:pager"] }
      - { after: 30m, notify: ["schedule:primary"] }`,
    severities: `  P0: { ack_within: 15m, update_every: 30m, policy: critical, reack_after: 1h }
  P1: { ack_within: 1h, policy: critical }
  P2: { ack_within: 4h }
  P3: { ack_within: 1d }`,
    extra: `notifiers:
  pager: { kind: webhook, url: "https://pager.example/hook" }`,
  }).replace(
    'escalation_policies:\n  critical:',
    'escalation_policies:\n  critical:\n    repeat: 1',
  ),
  {},
);
const keys = createKeys('t:');
const ik = keys.incident('INC-1');

function incident(over: Partial<Incident> = {}): Incident {
  return makeIncident({
    severity: 'P0',
    title: 'db <down>',
    source: 'ci',
    integration: 'ci',
    dedup: 'x',
    chats: [String(GROUP)],
    createdAt: 0,
    ...over,
  });
}

function policies(clock: FakeClock, overrides: Override[] = []) {
  return createPolicies({ config, clock, overrides: async () => overrides });
}

describe('who a level pages', () => {
  it('resolves a schedule to its on-call person at that time, overrides first', async () => {
    const clock = new FakeClock();
    const t0 = clock.now();
    const p = policies(clock);
    expect((await p.targetsOf(['schedule:primary'], t0 + H)).paged).toEqual(['alice (primary)']);
    expect((await p.targetsOf(['schedule:primary'], t0 + 8 * 24 * H)).paged).toEqual([
      'bob (primary)',
    ]);
    const o = policies(clock, [{ person: 'root', from: t0, to: t0 + 2 * H }]);
    const during = await o.targetsOf(['schedule:primary'], t0 + H);
    expect(during.pages).toEqual([
      { person: 'root', telegramId: PEOPLE.root, schedule: 'primary' },
    ]);
    expect((await o.targetsOf(['schedule:primary'], t0 + 3 * H)).paged).toEqual([
      'alice (primary)',
    ]);
  });

  it('keeps the notify order; webhooks are listed', async () => {
    const clock = new FakeClock();
    const r = await policies(clock).targetsOf(
      config.escalation_policies.critical!.levels[1]!.notify,
      clock.now(),
    );
    expect(r.paged).toEqual(['root', 'webhook pager']);
    expect(r.webhooks).toEqual(['pager']);
  });
});

describe('the plan of a fired level', () => {
  const policy = config.escalation_policies.critical!;
  const targets = {
    pages: [
      { chat: String(GROUP), name: 'ops' },
      { person: 'alice', telegramId: PEOPLE.alice, schedule: 'primary' },
    ],
    webhooks: [],
    paged: ['#ops', 'alice (primary)'],
  };

  it('first level: shows the card in the chat, pages the person, arms the next level from the loop start', () => {
    const plan = levelPlan(
      keys,
      { inc: 'INC-1', loop: 0, level: 0, loopStart: 1000 },
      policy,
      targets,
      5000,
    );
    expect(plan.guards).toEqual([
      { key: ik, field: 'state', eq: 'triggered' },
      { key: ik, field: 'esc_step', eq: '0:0' },
    ]);
    expect(plan.outbox!.map((o) => [o.chat, o.kind])).toEqual([
      [String(GROUP), 'sync'],
      [String(PEOPLE.alice), 'page'],
    ]);
    expect(plan.timers).toEqual([
      {
        id: 'esc:INC-1:0:1',
        due: 1000 + 10 * 60_000,
        data: { kind: 'esc', inc: 'INC-1', loop: 0, level: 1, due: 1000 + 10 * 60_000 },
      },
    ]);
    expect(plan.hset).toContainEqual({ key: ik, field: 'esc_step', value: '0:1' });
    expect(plan.hset).toContainEqual({
      key: ik,
      field: 'paged',
      value: '["#ops","alice (primary)"]',
    });
    expect(plan.hdel).toBeUndefined();
  });

  it('a later level posts a new page in the chat (an edit rings no phone)', () => {
    const plan = levelPlan(
      keys,
      { inc: 'INC-1', loop: 1, level: 0, loopStart: 0 },
      policy,
      targets,
      0,
    );
    expect(plan.outbox![0]!.kind).toBe('page');
  });

  it('the last level repeats the chain (new loop, level 0) while repeats remain, then ends it', () => {
    const now = 40 * 60_000;
    const again = levelPlan(
      keys,
      { inc: 'INC-1', loop: 0, level: 2, loopStart: 0 },
      policy,
      targets,
      now,
    );
    // after the last level's own delay (30m - 10m)
    expect(again.timers![0]).toMatchObject({ id: 'esc:INC-1:1:0', due: now + 20 * 60_000 });
    expect(again.hset).toContainEqual({ key: ik, field: 'loop_start', value: now + 20 * 60_000 });
    const end = levelPlan(
      keys,
      { inc: 'INC-1', loop: 1, level: 2, loopStart: 0 },
      policy,
      targets,
      now,
    );
    expect(end.timers).toBeUndefined();
    expect(end.hdel).toEqual([{ key: ik, field: 'esc_step' }]);
  });
});

/** Level 0 of INC-1 comes due, as the timer service hands it over (a batch of one). */
const fireFirstLevel = (h: ReturnType<typeof harness>) =>
  h.firing.fireLevels([
    { id: 'esc:INC-1:0:0', data: { kind: 'esc', inc: 'INC-1', loop: 0, level: 0, due: 0 } },
  ]);

/** An escalation over a fake repository that records the plans applied. */
function harness(inc: Incident | undefined, opts: { silencedUntil?: number } = {}) {
  const clock = new FakeClock();
  const plans: EffectPlan[] = [];
  const handlers = new Map<string, (id: string, d: TimerData) => Promise<void>>();
  let notified = 0;
  const repo = {
    get: async () => inc,
    apply: async (p: EffectPlan) => (plans.push(p), 'ok' as const),
    escalationStates: async (ids: string[]) => ids.map(() => inc),
    applyMany: async (ps: EffectPlan[]) => ps.map((p) => (plans.push(p), 'ok' as const)),
  } as unknown as IncidentRepository;
  const timers = {
    register: (k: string, h: (id: string, d: TimerData) => Promise<void>) => handlers.set(k, h),
    registerBatch: () => undefined,
    notify: () => void notified++,
  } as unknown as TimerService;
  const none = {
    matching: async () => undefined,
    active: async () => [],
  } as unknown as SuppressionStore;
  // a silence with no matchers covers every incident (matchers all hold vacuously)
  const everything = {
    id: 's1',
    matchers: {},
    until: opts.silencedUntil ?? 0,
    by: 'alice',
    createdAt: 0,
  };
  const silences = opts.silencedUntil
    ? ({
        matching: async () => everything,
        active: async () => [everything],
      } as unknown as SuppressionStore)
    : none;
  const logger = createLogger('silent');
  const metrics = createMetrics();
  const esc = createEscalation({
    // nothing here delivers a webhook, so the notifier's scripts are never called
    scripts: {} as never,
    keys,
    clock,
    config,
    repo,
    timers,
    overrides: { active: async () => [] },
    silences,
    maintenance: none,
    logger,
    metrics,
  });
  const firing = createLevelFiring({
    keys,
    clock,
    repo,
    timers,
    policies: policies(clock),
    silences,
    maintenance: none,
    logger,
    metrics,
  });
  return { clock, plans, handlers, esc, firing, notified: () => notified };
}

describe('firing a level', () => {
  it('a timer for a step the incident no longer waits for only settles its once-marker', async () => {
    const h = harness(incident({ escStep: '0:1' }));
    await fireFirstLevel(h);
    expect(h.plans).toEqual([{ once: 'esc:INC-1:0:0', release: 'esc:INC-1:0:0' }]);
  });

  it('an acknowledged incident pages nobody', async () => {
    const h = harness(incident({ escStep: '0:0', state: 'acknowledged' }));
    await fireFirstLevel(h);
    expect(h.plans).toEqual([{ once: 'esc:INC-1:0:0', release: 'esc:INC-1:0:0' }]);
  });

  it('fires the pending step once, paging whom the schedule names now', async () => {
    const h = harness(incident({ escStep: '0:0', loopStart: 0 }));
    await fireFirstLevel(h);
    const [plan] = h.plans;
    expect(plan).toMatchObject({ once: 'esc:INC-1:0:0', release: 'esc:INC-1:0:0' });
    expect(plan!.outbox!.map((o) => o.chat)).toEqual([String(GROUP), String(PEOPLE.alice)]);
  });

  it('a silenced incident is paged when the silence ends, not now', async () => {
    const h = harness(incident({ escStep: '0:0' }), { silencedUntil: 9_999_999_999_999 });
    await fireFirstLevel(h);
    const [plan] = h.plans;
    expect(plan!.outbox).toBeUndefined();
    expect(plan!.timers![0]!.data).toMatchObject({ kind: 'esc', level: 0, due: 9_999_999_999_999 });
    expect(plan!.timers![0]!.due).toBe(h.clock.now() + 7 * 86_400_000);
  });
});

describe('acknowledgement and /escalate', () => {
  it('an acknowledgement cancels the pending level and the breach, and arms reminders', () => {
    const h = harness(undefined);
    const fx = h.esc.ackEffects(incident({ escTimer: 'esc:INC-1:0:1' }), 500);
    expect(fx.cancel).toEqual(['esc:INC-1:0:1', 'breach:INC-1']);
    expect(fx.hdel).toEqual([{ key: ik, field: 'esc_step' }]);
    expect(fx.timers!.map((x) => x.id)).toEqual(['remind:INC-1:500:0', 'reack:INC-1:500']);
  });

  it('/escalate fires the pending level now through a timer of its own', async () => {
    const h = harness(undefined);
    const now = h.clock.now();
    const r = await h.esc.escalateNow(
      incident({ escStep: '0:1', escTimer: 'esc:INC-1:0:1' }),
      'alice',
    );
    expect(r).toBe('ok');
    const [plan] = h.plans;
    expect(plan!.cancel).toEqual(['esc:INC-1:0:1']);
    expect(plan!.timers).toEqual([
      {
        id: `esc:INC-1:0:1:m${now}`,
        due: now,
        data: { kind: 'esc', inc: 'INC-1', loop: 0, level: 1, due: now },
      },
    ]);
  });

  it('/escalate after the last level (chain ended) starts the chain again at level 0 in a new loop', async () => {
    const h = harness(undefined);
    const now = h.clock.now();
    await h.esc.escalateNow(incident({ loop: 1, level: 2 }), 'alice');
    const [plan] = h.plans;
    expect(plan!.guards).toEqual([{ key: ik, field: 'state', eq: 'triggered' }]);
    expect(plan!.timers).toEqual([
      {
        id: 'esc:INC-1:2:0',
        due: now,
        data: { kind: 'esc', inc: 'INC-1', loop: 2, level: 0, due: now },
      },
    ]);
    expect(plan!.hset).toContainEqual({ key: ik, field: 'esc_step', value: '2:0' });
    // pressed twice before it fires: the same timer id, so level 0 is paged once
    await h.esc.escalateNow(incident({ loop: 1, level: 2 }), 'alice');
    expect(h.plans[1]!.timers![0]!.id).toBe('esc:INC-1:2:0');
  });

  it('/escalate on an acknowledged incident returns it to triggered and restarts the chain', async () => {
    const h = harness(undefined);
    await h.esc.escalateNow(incident({ state: 'acknowledged', ackAt: 1, ackBy: 'alice' }), 'alice');
    const [plan] = h.plans;
    expect(plan!.guards).toEqual([{ key: ik, field: 'state', eq: 'acknowledged' }]);
    expect(plan!.hset).toContainEqual({ key: ik, field: 'state', value: 'triggered' });
    expect(plan!.hdel).toEqual([
      { key: ik, field: 'ack_at' },
      { key: ik, field: 'ack_by' },
    ]);
  });

  it('an update reminder names the person; the mention is rendered, escaped, when sent', async () => {
    const inc = incident({ state: 'acknowledged', ackAt: 0, ackBy: 'alice' });
    const h = harness(inc);
    h.clock.set(31 * 60_000);
    await h.handlers.get('remind')!('remind:INC-1:0:0', {
      kind: 'remind',
      inc: 'INC-1',
      ackAt: 0,
      due: 0,
    });
    const job = h.plans[0]!.outbox![0]!;
    expect(job.kind === 'text' && job.data.notice).toEqual({
      key: 'remind-update',
      id: 'INC-1',
      who: { name: 'alice', telegramId: PEOPLE.alice },
      every: '30m',
      since: '31m',
    });
    const { t } = createI18n();
    const notice: Notice = {
      key: 'remind-update',
      id: 'INC-1',
      who: { name: '<b>x', telegramId: 7 },
      every: '30m',
      since: '31m',
    };
    const html = renderNotice(notice, t, 'en');
    expect(html).toContain('<a href="tg://user?id=7">&lt;b&gt;x</a>');
  });
});
