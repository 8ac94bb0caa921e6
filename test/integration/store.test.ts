import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createIncidentRepository } from '../../src/store/incidents.js';
import type { Alert } from '../../src/domain/alert.js';
import { createKeys } from '../../src/store/keys.js';
import { encodeBatch } from '../../src/store/incident-ingest.js';
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
    await repo.apply({
      timers: [{ id: 'x1', due: clock.now() - 1, data: { kind: 'trade', id: 'k', due: 0 } }],
    });
    const claim = async () =>
      (await scripts.timerClaim({ now: clock.now(), leaseMs: 1000, max: 10 })).timers;
    const [a, b] = await Promise.all([claim(), claim()]);
    expect([a, b].map((r) => r.length).sort()).toEqual([0, 1]);
    expect((await claim()).length).toBe(0);
    clock.advance(1001);
    expect((await claim())[0]?.id).toBe('x1');
  });

  describe('group commit: several intake requests in one call', () => {
    const requestOf = (name: string, n = 1) =>
      Array.from({ length: n }, (_, i) => ({
        alert: alert({ dedupKey: `gc:${name}:${i}`, fingerprint: `gc-${name}-${i}`, title: name }),
        routed,
      }));

    it('the script counts each request on the limit as if it came alone and admits the first ones', async () => {
      const rate = { key: keys.rate('gc-script:1'), max: 3, ttl: 60_000 };
      await redis.set(rate.key, 1, 'PX', 60_000); // one request of this window already counted
      const reqs = [requestOf('A'), requestOf('B', 2), requestOf('C'), requestOf('D')];
      const res = await scripts.incidentUpsert({
        now: clock.now(),
        rate,
        sizes: reqs.map((r) => r.length),
        ...encodeBatch(reqs.flat(), clock.now()),
      });
      // 1 + 4 requests: A and B fit under 3, C and D are refused (their items left out)
      expect(res.kind === 'ok' && res.admitted).toBe(2);
      expect(res.kind === 'ok' && res.results.map((r) => r.outcome)).toEqual([
        'created',
        'created',
        'created',
      ]);
      expect(await redis.get(rate.key)).toBe('5');
      const titles = async (ids: string[]) => (await repo.getMany(ids)).map((i) => i.title);
      expect(await titles(res.kind === 'ok' ? res.results.map((r) => r.id) : [])).toEqual([
        'A',
        'B',
        'B',
      ]);
      // C alone now: still refused, as it was in the shared call
      const again = await scripts.incidentUpsert({
        now: clock.now(),
        rate,
        ...encodeBatch(requestOf('C'), clock.now()),
      });
      expect(again.kind).toBe('rate_limited');
      // nothing of C or D was stored
      expect(await redis.get(keys.dedup('prometheus/gc:C:0'))).toBeNull();
      expect(await redis.get(keys.dedup('prometheus/gc:D:0'))).toBeNull();
    });

    it('none admitted: rate_limited, nothing but the counter written', async () => {
      const rate = { key: keys.rate('gc-script:2'), max: 2, ttl: 60_000 };
      await redis.set(rate.key, 2, 'PX', 60_000);
      const reqs = [requestOf('E'), requestOf('F')];
      const res = await scripts.incidentUpsert({
        now: clock.now(),
        rate,
        sizes: [1, 1],
        ...encodeBatch(reqs.flat(), clock.now()),
      });
      expect(res.kind).toBe('rate_limited');
      expect(await redis.get(rate.key)).toBe('4');
      expect(await redis.get(keys.dedup('prometheus/gc:E:0'))).toBeNull();
    });

    it('requests sent at once through the repository: the same answers as one by one, in order', async () => {
      const rate = { key: keys.rate('gc-repo:1'), max: 5, ttl: 60_000 };
      // the repository over the real script, counting its calls
      const calls: number[] = [];
      const told: number[] = [];
      const counted = createIncidentRepository({
        redis,
        keys,
        clock,
        onIngestCall: (n) => told.push(n),
        scripts: {
          ...scripts,
          incidentUpsert: (a) => {
            calls.push(a.sizes?.length ?? 1);
            return scripts.incidentUpsert(a);
          },
        },
      });
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          counted.ingestBatch(requestOf(`R${i}`, 1 + (i % 3)), { now: clock.now(), rate }),
        ),
      );
      expect(answers.map((a) => a.kind)).toEqual([
        'ok',
        'ok',
        'ok',
        'ok',
        'ok',
        'rate_limited',
        'rate_limited',
        'rate_limited',
      ]);
      // each admitted request got exactly its own incidents
      for (let i = 0; i < 5; i++) {
        const a = answers[i]!;
        if (a.kind !== 'ok') throw new Error('expected ok');
        expect((await repo.getMany(a.results.map((r) => r.id))).map((x) => x.title)).toEqual(
          Array.from({ length: 1 + (i % 3) }, () => `R${i}`),
        );
      }
      expect(await redis.get(rate.key)).toBe('8');
      // they shared calls: two went at once, the six that waited went together
      expect(calls).toEqual([1, 1, 6]);
      // and the metric's hook was told the same
      expect(told).toEqual([1, 1, 6]);
    });

    it('without a rate limit too, the metric hook is told how many requests each call stored', async () => {
      const told: number[] = [];
      const counted = createIncidentRepository({
        redis,
        keys,
        clock,
        scripts,
        onIngestCall: (n) => told.push(n),
      });
      const answers = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          counted.ingestBatch(requestOf(`N${i}`), { now: clock.now() }),
        ),
      );
      expect(answers.map((a) => a.kind)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
      // two went at once, the three that waited went together
      expect(told).toEqual([1, 1, 3]);
    });
  });
});
