import { beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config.js';
import type { TimerDataOf } from '../../src/domain/timers.js';
import { createLevelFiring } from '../../src/escalation/fire.js';
import { createPolicies } from '../../src/escalation/policy.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { createSchedulerStore } from '../../src/store/scheduler.js';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { TOKENS, testConfigYaml } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

// Levels due together fire as one batch (one apply_effects call); each level keeps its own
// once-marker and guards. Fake time: the apps never see level 1 come due unless a test moves the clock.
const MIN = 60_000;
const config = parseConfig(
  testConfigYaml({
    levels: `      - { after: 0s, notify: ["chat:ops"] }
      - { after: 10m, notify: ["person:root"] }`,
  }),
  {},
);

let kit: TelegramKit;
let t: TestApp;
let apps: TestApp[];
let clock: FakeClock;
let t0: number;
beforeEach(async () => {
  clock = new FakeClock();
  t0 = clock.now();
  ({ kit, t, apps } = await build({ config, clock, polling: false, replicas: 2, each: true }));
});

type Esc = { id: string; data: TimerDataOf<'esc'> };

/** Opens `n` incidents and waits for their first level (fired at creation). */
async function open(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await post(
      `${t.url}/hooks/generic`,
      { title: `batch ${i}`, status: 'firing', severity: 'critical', dedup_key: `batch-${i}` },
      TOKENS.ci,
    );
    ids.push((r.body.incidents as string[])[0]!);
  }
  await kit.waitFor(async () => (await Promise.all(ids.map(levels))).every((l) => l.length === 1), {
    label: 'first levels',
  });
  return ids;
}

/** The levels an incident's timeline records as escalated. */
async function levels(id: string): Promise<number[]> {
  return (await t.app.services.repo.timeline(id))
    .filter((e) => e.type === 'escalated')
    .map((e) => (e.data as { level: number }).level);
}

/** What a replica does: claims the due level-1 timers (at their due time) with a lease. */
async function claimLevel1(n: number, leaseMs: number): Promise<Esc[]> {
  const { scripts, keys } = t.app.services;
  const store = createSchedulerStore({ scripts, keys });
  const claimed = await store.claim(t0 + 10 * MIN, leaseMs, 100);
  const esc = claimed.timers.filter((x) => x.data.kind === 'esc') as Esc[];
  expect(esc).toHaveLength(n);
  return esc;
}

/** A level firing over the first app's stores (the part of a replica that fires a claimed batch). */
function firing() {
  const s = t.app.services;
  return createLevelFiring({
    keys: s.keys,
    clock,
    repo: s.repo,
    timers: s.timers,
    policies: createPolicies({ config, clock, overrides: s.overrides.active }),
    silences: s.silences,
    maintenance: s.maintenance,
    logger: createLogger('silent'),
    metrics: createMetrics({ defaults: false }),
  });
}

async function settled(id: string): Promise<{ inflight: boolean; fired: boolean }> {
  const { redis, keys } = t.app.services;
  return {
    inflight: (await redis.zscore(keys.timerInflight(), id)) !== null,
    fired: (await redis.exists(keys.timerFired(id))) === 1,
  };
}

describe('escalation levels fired as a batch', () => {
  it('an incident acknowledged after the claim is skipped; the others in the batch escalate', async () => {
    const ids = await open(4);
    const batch = await claimLevel1(4, 5 * MIN);
    expect((await t.app.services.actions.acknowledge(ids[1]!, 'alice')).ok).toBe(true);
    await firing().fireLevels(batch);
    expect(await Promise.all(ids.map(levels))).toEqual([[0, 1], [0], [0, 1], [0, 1]]);
    // every timer of the batch is settled: out of flight, its once-marker set
    for (const x of batch) expect(await settled(x.id)).toEqual({ inflight: false, fired: true });
  });

  it('a plan whose guard fails or that fails in the script leaves the others applied', async () => {
    const { scripts, keys, redis } = t.app.services;
    const ids = await open(3);
    const key = (id: string) => keys.incident(id);
    await redis.set(keys.lock('not-a-hash'), 'x');
    const res = await scripts.applyEffectsMany(clock.now(), [
      {
        guards: [{ key: key(ids[0]!), field: 'state', eq: 'triggered' }],
        hset: [{ key: key(ids[0]!), field: 'assignee', value: 'a' }],
      },
      {
        guards: [{ key: key(ids[1]!), field: 'state', eq: 'resolved' }],
        hset: [{ key: key(ids[1]!), field: 'assignee', value: 'b' }],
      },
      { hset: [{ key: keys.lock('not-a-hash'), field: 'f', value: 'v' }] },
      {
        guards: [{ key: key(ids[2]!), field: 'state', eq: 'triggered' }],
        hset: [{ key: key(ids[2]!), field: 'assignee', value: 'c' }],
      },
    ]);
    expect(res).toEqual(['ok', 'stale', 'error', 'ok']);
    const assignees = await Promise.all(
      ids.map(async (id) => (await t.app.services.repo.get(id))!.assignee),
    );
    expect(assignees).toEqual(['a', undefined, 'c']);
  });

  it('a replica that dies holding a batch: after the lease another fires every level once; the late one changes nothing', async () => {
    const ids = await open(3);
    // the dying replica claimed the batch and never applied it
    const lost = await claimLevel1(3, MIN);
    for (const x of lost) expect(await settled(x.id)).toEqual({ inflight: true, fired: false });
    expect(await Promise.all(ids.map(levels))).toEqual([[0], [0], [0]]);
    // the live replicas take the timers over once the lease ran out
    clock.set(t0 + 10 * MIN + MIN + 1);
    for (const a of apps) a.app.services.timers.notify();
    await kit.waitFor(
      async () => (await Promise.all(ids.map(levels))).every((l) => l.length === 2),
      { label: 'level 1 fired after the lease' },
    );
    // the replica was only slow: it fires its old claim now, and every level answers as fired already
    await firing().fireLevels(lost);
    expect(await Promise.all(ids.map(levels))).toEqual([
      [0, 1],
      [0, 1],
      [0, 1],
    ]);
    for (const x of lost) expect(await settled(x.id)).toEqual({ inflight: false, fired: true });
  });
});
