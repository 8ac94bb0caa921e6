import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createIncidentRepository } from '../../src/store/incidents.js';
import type { Alert } from '../../src/domain/alert.js';
import { createKeys } from '../../src/store/keys.js';
import { createScripts } from '../../src/store/scripts.js';
import { REDIS_URL, dropPrefix, freshPrefix } from '../helpers/redis.js';

const prefix = freshPrefix('store');
const redis = new Redis(REDIS_URL);
const keys = createKeys(prefix);
const clock = new FakeClock();
const scripts = createScripts(redis, keys);
const repo = createIncidentRepository({ redis, keys, scripts, clock });

const alert = (over: Partial<Alert> = {}): Alert => ({
  source: 'alertmanager',
  integration: 'prometheus',
  dedupKey: 'am:{}:{alertname="X"}',
  fingerprint: 'fp1',
  status: 'firing',
  title: 'Disk full',
  labels: { alertname: 'X' },
  annotations: {},
  links: [],
  ...over,
});
const routed = { severity: 'P1' as const, chats: ['-100'], notify: true };

beforeAll(async () => {
  await redis.ping();
});
afterAll(async () => {
  await dropPrefix(prefix);
  redis.disconnect();
});

describe('incident store (real Redis)', () => {
  it('dedups alerts of one group into one incident and resolves when all resolve', async () => {
    const a = await repo.ingest(alert(), routed);
    expect(a.outcome).toBe('created');
    expect(a.id).toMatch(/^INC-\d+$/);
    expect((await repo.ingest(alert(), routed)).outcome).toBe('unchanged');
    const b = await repo.ingest(alert({ fingerprint: 'fp2' }), routed);
    expect(b).toEqual({ id: a.id, outcome: 'updated' });
    expect((await repo.ingest(alert({ status: 'resolved' }), routed)).outcome).toBe('updated');
    expect((await repo.get(a.id))?.state).toBe('triggered');
    expect(
      (await repo.ingest(alert({ fingerprint: 'fp2', status: 'resolved' }), routed)).outcome,
    ).toBe('resolved');
    const inc = await repo.get(a.id);
    expect(inc).toMatchObject({ state: 'resolved', alertCount: 2, firingCount: 0 });
    expect((await repo.timeline(a.id)).map((e) => e.type)).toEqual([
      'triggered',
      'alert_added',
      'alert_resolved',
      'resolved',
    ]);
    // a re-trigger of a resolved dedup key opens a new incident
    const c = await repo.ingest(alert(), routed);
    expect(c.outcome).toBe('created');
    expect(c.id).not.toBe(a.id);
  });

  it('queues exactly one outbox job per incident and chat (coalesced)', async () => {
    const a = await repo.ingest(alert({ dedupKey: 'coalesce' }), routed);
    await repo.ingest(alert({ dedupKey: 'coalesce', fingerprint: 'x2' }), routed);
    await repo.ingest(alert({ dedupKey: 'coalesce', fingerprint: 'x3' }), routed);
    // a new P1's card waits in lane 1 (new P0/P1 cards); later changes coalesce into it
    const q = await redis.lrange(keys.obLane('-100', 1), 0, -1);
    const jobs = await Promise.all(
      q.map(
        async (id) => JSON.parse((await redis.get(keys.obJob(id)))!) as { data: { inc: string } },
      ),
    );
    expect(jobs.filter((j) => j.data.inc === a.id)).toHaveLength(1);
  });

  it('an acknowledged resolved alert for an unknown key is ignored, nothing stored', async () => {
    const before = await redis.get(keys.seq());
    expect(
      (await repo.ingest(alert({ dedupKey: 'never-seen', status: 'resolved' }), routed)).outcome,
    ).toBe('ignored');
    expect(await redis.get(keys.seq())).toBe(before);
  });

  it('guards make concurrent changes exclusive', async () => {
    const { id } = await repo.ingest(alert({ dedupKey: 'race' }), routed);
    const ik = keys.incident(id);
    const plan = (who: string) => ({
      guards: [{ key: ik, field: 'state', eq: 'triggered' }],
      hset: [
        { key: ik, field: 'state', value: 'acknowledged' },
        { key: ik, field: 'ack_by', value: who },
      ],
      timeline: [{ inc: id, entry: { t: clock.now(), type: 'acknowledged', actor: who } }],
    });
    const results = await Promise.all(['alice', 'bob', 'carol'].map((w) => repo.apply(plan(w))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect((await repo.timeline(id)).filter((e) => e.type === 'acknowledged')).toHaveLength(1);
  });

  it('a once-marker makes a timer act exactly once', async () => {
    const plan = { once: 'tm-1', incr: [{ key: `${prefix}counter` }] };
    const r = await Promise.all([repo.apply(plan), repo.apply(plan), repo.apply(plan)]);
    expect(r.sort()).toEqual(['dup', 'dup', 'ok']);
    expect(await redis.get(`${prefix}counter`)).toBe('1');
  });

  it('timer_claim hands each due timer to one caller and re-offers it after the lease', async () => {
    await repo.apply({ timers: [{ id: 'x1', due: clock.now() - 1, data: { kind: 'k' } }] });
    const claim = async () =>
      (await scripts.timerClaim({ now: clock.now(), leaseMs: 1000, max: 10 })).timers;
    const [a, b] = await Promise.all([claim(), claim()]);
    expect([a, b].map((r) => r.length).sort()).toEqual([0, 1]);
    expect((await claim()).length).toBe(0);
    clock.advance(1001);
    expect((await claim())[0]?.id).toBe('x1');
  });
});
