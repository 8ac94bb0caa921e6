import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { FakeClock } from '../../src/clock.js';
import type { Alert } from '../../src/domain/alert.js';
import type { Severity } from '../../src/domain/severity.js';
import { createLogger } from '../../src/logger.js';
import { TOKENS, testConfig } from '../helpers/config.js';
import { recount } from '../helpers/recount.js';
import { REDIS_URL, dropPrefix, freshPrefix } from '../helpers/redis.js';

const redis = new Redis(REDIS_URL);
const config = testConfig();
const prefixes: string[] = [];
afterAll(async () => {
  for (const p of prefixes) await dropPrefix(p);
  redis.disconnect();
});

/** An app that is built, not started: its repository, actions and scripts on a fresh prefix. */
function world() {
  const prefix = freshPrefix('reads');
  prefixes.push(prefix);
  const clock = new FakeClock();
  const app = buildApp({
    config,
    env: {
      botToken: '1:x',
      apiRoot: 'http://127.0.0.1:9',
      redisUrl: REDIS_URL,
      redisPrefix: prefix,
    },
    clock,
    redis,
    logger: createLogger('silent'),
    defaultMetrics: false,
  });
  const s = app.services;
  const alert = (key: string, over: Partial<Alert> = {}): Alert => ({
    source: 'generic',
    integration: key.startsWith('g') ? 'grafana' : 'ci',
    dedupKey: key,
    fingerprint: 'fp',
    status: 'firing',
    title: `alert ${key}`,
    labels: {},
    annotations: {},
    links: [],
    ...over,
  });
  async function trigger(key: string, severity: Severity, notify = true) {
    return s.repo.ingest(alert(key), {
      severity,
      chats: ['-100'],
      notify,
      onCreate: s.escalation.creationPlan(severity, clock.now()),
    });
  }
  return { app, s, clock, alert, trigger, keys: s.keys };
}

const SEV = fc.constantFrom<Severity>('P0', 'P1', 'P2', 'P3');
const KEY = fc.constantFrom('a', 'b', 'c', 'g1', 'g2');
const command = fc.oneof(
  fc.record({ op: fc.constant('trigger' as const), key: KEY, sev: SEV, notify: fc.boolean() }),
  fc.record({ op: fc.constant('alertResolve' as const), key: KEY }),
  fc.record({ op: fc.constant('alertAck' as const), key: KEY }),
  fc.record({ op: fc.constant('ack' as const), n: fc.nat(20) }),
  fc.record({ op: fc.constant('unack' as const), n: fc.nat(20) }),
  fc.record({ op: fc.constant('resolve' as const), n: fc.nat(20) }),
  fc.record({ op: fc.constant('sev' as const), n: fc.nat(20), sev: SEV }),
  fc.record({ op: fc.constant('silence' as const), n: fc.nat(20) }),
  fc.record({ op: fc.constant('breach' as const), n: fc.nat(20) }),
  fc.record({ op: fc.constant('note' as const), n: fc.nat(20) }),
  fc.record({
    op: fc.constant('wait' as const),
    ms: fc.integer({ min: 1_000, max: 3 * 86_400_000 }),
  }),
);

describe('counters, indexes and aggregates kept by the scripts', () => {
  it('equal a recount after any sequence of triggers, acks, resolutions and re-triggers', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 40 }), async (cmds) => {
        const w = world();
        const id = (n: number) => `INC-${(n % 8) + 1}`;
        for (const c of cmds) {
          switch (c.op) {
            case 'trigger':
              await w.trigger(c.key, c.sev, c.notify);
              break;
            case 'alertResolve':
              await w.s.repo.ingest(w.alert(c.key, { status: 'resolved' }), {
                severity: 'P3',
                chats: ['-100'],
                notify: true,
              });
              break;
            case 'alertAck':
              await w.s.repo.ingest(w.alert(c.key, { acknowledge: true }), {
                severity: 'P3',
                chats: ['-100'],
                notify: true,
              });
              break;
            case 'ack':
              await w.s.actions.acknowledge(id(c.n), 'alice');
              break;
            case 'unack':
              await w.s.actions.unacknowledge(id(c.n), 'bob');
              break;
            case 'resolve':
              await w.s.actions.resolve(id(c.n), 'alice', 'done');
              break;
            case 'sev':
              await w.s.actions.setSeverity(id(c.n), 'bob', c.sev);
              break;
            case 'silence':
              await w.s.actions.silence(id(c.n), 'bob', w.clock.now() + 3_600_000, '1h');
              break;
            case 'breach':
              await w.s.repo.apply({
                guards: [{ key: w.keys.incident(id(c.n)), field: 'state', eq: 'triggered' }],
                hset: [{ key: w.keys.incident(id(c.n)), field: 'breached', value: 1 }],
              });
              break;
            case 'note':
              await w.s.actions.note(id(c.n), 'carol', 'looking');
              break;
            case 'wait':
              w.clock.advance(c.ms);
              break;
          }
        }
        const { want, have } = await recount(redis, w.keys);
        expect(have.open).toEqual(want.open);
        expect(have.states).toEqual(want.states);
        expect(have.index).toEqual(want.index);
        expect(have.opensev).toEqual(want.opensev);
        expect(have.silencedOpen).toEqual(want.silencedOpen);
        expect(have.agg).toEqual(want.agg);
        // a resolved incident has no pending escalation, breach, reminder or re-ack timer
        const due = await redis.zrange(w.keys.timers(), 0, -1);
        for (const r of want.index.resolved!)
          expect(due.filter((t) => t.includes(`:${r}:`) || t.endsWith(`:${r}`))).toEqual([]);
      }),
      { numRuns: 30 },
    );
  }, 120_000);

  it('keeps /status inputs: oldest unacknowledged and silenced counts', async () => {
    const w = world();
    await w.trigger('a', 'P1');
    w.clock.advance(60_000);
    await w.trigger('b', 'P0', false); // created while silenced: recorded, not posted
    w.clock.advance(60_000);
    await w.trigger('c', 'P2');
    expect((await w.s.repo.oldestUnacknowledged())?.id).toBe('INC-1');
    await w.s.actions.acknowledge('INC-1', 'alice');
    expect((await w.s.repo.oldestUnacknowledged())?.id).toBe('INC-2');
    expect(await w.s.repo.countSilenced()).toBe(1);
    await w.s.actions.silence('INC-3', 'bob', w.clock.now() + 3_600_000, '1h');
    expect(await w.s.repo.countSilenced()).toBe(2);
    w.clock.advance(2 * 3_600_000); // the 1 h silence ran out
    expect(await w.s.repo.countSilenced()).toBe(1);
    await w.s.actions.resolve('INC-2', 'alice');
    expect(await w.s.repo.countSilenced()).toBe(0);
  });
});

describe('cursor pages', () => {
  it('a walk covers every incident exactly once while new ones arrive, for every state filter', async () => {
    const w = world();
    for (let i = 0; i < 57; i++) {
      await w.trigger(`k${i}`, (['P0', 'P1', 'P2', 'P3'] as const)[i % 4]!);
      w.clock.advance(1_000);
    }
    for (let i = 1; i <= 57; i += 3) await w.s.actions.acknowledge(`INC-${i}`, 'alice');
    for (let i = 2; i <= 57; i += 5) await w.s.actions.resolve(`INC-${i}`, 'alice');
    const expectIds = async (state: 'all' | 'open' | 'triggered' | 'acknowledged' | 'resolved') => {
      const seen: string[] = [];
      let cursor: number | undefined;
      let extra = 0;
      for (;;) {
        const p = await w.s.repo.page({ state, limit: 10, cursor });
        seen.push(...p.incidents.map((x) => x.id));
        // new incidents arrive during the walk: they sort before the cursor and never shift it
        await w.trigger(`new-${state}-${extra++}`, 'P1');
        if (!p.next) break;
        cursor = Number(p.next.slice(4));
      }
      return seen;
    };
    const all = await expectIds('all');
    expect(all).toHaveLength(57);
    expect(new Set(all).size).toBe(57);
    expect(all).toEqual([...all].sort((a, b) => Number(b.slice(4)) - Number(a.slice(4))));
    const resolved = await expectIds('resolved');
    expect(resolved.sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `INC-${2 + 5 * i}`).sort(),
    );
    const open = await expectIds('open');
    // open = triggered + acknowledged, everything not resolved that existed at the start of the walk
    expect(open.every((id) => !resolved.includes(id))).toBe(true);
    expect(new Set(open).size).toBe(open.length);
    const ack = await expectIds('acknowledged');
    for (const id of ack) expect((await w.s.repo.get(id))?.state).toBe('acknowledged');
  });

  it('/incidents pages read only their rows, in severity then age order', async () => {
    const w = world();
    for (let i = 0; i < 12; i++) {
      await w.trigger(`p${i}`, (['P2', 'P0', 'P3', 'P1'] as const)[i % 4]!);
      w.clock.advance(1_000);
    }
    const a = await w.s.repo.openPage(0, 5);
    const b = await w.s.repo.openPage(5, 5);
    const c = await w.s.repo.openPage(10, 5);
    expect(a.total).toBe(12);
    const order = [...a.incidents, ...b.incidents, ...c.incidents].map(
      (i) => `${i.severity}:${i.seq}`,
    );
    expect(order).toEqual([
      'P0:2',
      'P0:6',
      'P0:10',
      'P1:4',
      'P1:8',
      'P1:12',
      'P2:1',
      'P2:5',
      'P2:9',
      'P3:3',
      'P3:7',
      'P3:11',
    ]);
  });
});

describe('retention', () => {
  it('deletes resolved incidents older than retention.resolved in batches, keeps stats', async () => {
    const w = world();
    for (let i = 0; i < 7; i++) await w.trigger(`r${i}`, 'P2');
    for (let i = 1; i <= 5; i++) await w.s.actions.resolve(`INC-${i}`, 'alice');
    const before = await w.s.repo.aggregates(0, Math.floor(w.clock.now() / 86_400_000));
    w.clock.advance(181 * 86_400_000);
    await w.trigger('r-late', 'P1');
    await w.s.actions.resolve('INC-8', 'alice'); // resolved just now: kept
    expect((await w.s.repo.counts()).states.resolved).toBe(6);
    const { createHistory } = await import('../../src/incidents/history.js');
    const { createHistoryStore } = await import('../../src/store/history.js');
    const h = createHistory({
      store: createHistoryStore({ redis, keys: w.keys, scripts: w.s.scripts }),
      clock: w.clock,
      logger: w.s.logger,
      retentionMs: 180 * 86_400_000,
      batch: 2,
    });
    expect((await h.compactOnce()).deleted).toBe(2);
    expect((await h.compactOnce()).deleted).toBe(2);
    expect((await h.compactOnce()).deleted).toBe(1);
    expect((await h.compactOnce()).deleted).toBe(0);
    for (let i = 1; i <= 5; i++) {
      expect(await w.s.repo.get(`INC-${i}`)).toBeUndefined();
      expect(await redis.exists(w.keys.timeline(`INC-${i}`), w.keys.alerts(`INC-${i}`))).toBe(0);
    }
    expect((await w.s.repo.get('INC-8'))?.state).toBe('resolved');
    const c = await w.s.repo.counts();
    expect(c.states).toEqual({ triggered: 2, acknowledged: 0, resolved: 1 });
    const p = await w.s.repo.page({ state: 'all', limit: 100 });
    expect(p.incidents.map((i) => i.id)).toEqual(['INC-8', 'INC-7', 'INC-6']);
    // the day's aggregates were kept by compaction (they go after 92 days with the older days)
    const day0 = Math.floor(Date.parse('2026-01-05T09:00:00Z') / 86_400_000);
    expect(await redis.exists(w.keys.aggDay(day0))).toBe(0); // 181 days old: past the /stats window
    expect(before.fields.get('P2|ci|n')).toBe(7);
  });
});

describe('read API pages', () => {
  it('answers {incidents, next_cursor} with bounded timelines, and 400 for bad parameters', async () => {
    const w = world();
    for (let i = 0; i < 5; i++) await w.trigger(`api${i}`, 'P1');
    for (let i = 0; i < 30; i++) await w.s.actions.note('INC-5', 'alice', `note ${i}`);
    await w.s.actions.resolve('INC-2', 'alice');
    const get = (q: string) =>
      w.app.http.inject({
        method: 'GET',
        url: `/api/v1/incidents${q}`,
        headers: { authorization: `Bearer ${TOKENS.api}` },
      });
    const first = (await get('?limit=2')).json() as {
      incidents: { id: string; timeline: unknown[]; timeline_total: number }[];
      next_cursor: string | null;
    };
    expect(first.incidents.map((i) => i.id)).toEqual(['INC-5', 'INC-4']);
    expect(first.incidents[0]!.timeline).toHaveLength(20);
    expect(first.incidents[0]!.timeline_total).toBe(31);
    expect(first.next_cursor).toBe('INC-4');
    const rest = (await get(`?limit=2&cursor=${first.next_cursor}`)).json() as typeof first;
    expect(rest.incidents.map((i) => i.id)).toEqual(['INC-3', 'INC-2']);
    const last = (await get(`?limit=2&cursor=${rest.next_cursor}`)).json() as typeof first;
    expect(last.incidents.map((i) => i.id)).toEqual(['INC-1']);
    expect(last.next_cursor).toBeNull();
    const open = (await get('?state=open')).json() as typeof first;
    expect(open.incidents.map((i) => i.id)).toEqual(['INC-5', 'INC-4', 'INC-3', 'INC-1']);
    const resolved = (await get('?state=resolved')).json() as typeof first;
    expect(resolved.incidents.map((i) => i.id)).toEqual(['INC-2']);
    for (const bad of ['?limit=0', '?limit=1001', '?limit=abc', '?state=closed', '?cursor=xyz']) {
      const r = await get(bad);
      expect(r.statusCode, bad).toBe(400);
      const body = r.json() as { error: string; issues: { path: string }[] };
      expect(body.error).toBe('invalid query');
      expect(body.issues[0]!.path).toBe(bad.slice(1, bad.indexOf('=')));
    }
    expect((await get('?limit=1000')).statusCode).toBe(200);
  });
});
