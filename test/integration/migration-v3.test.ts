import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { SCHEMA_VERSION } from '../../src/incidents/history.js';
import { createKeys } from '../../src/store/keys.js';
import type { TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { TOKENS } from '../helpers/config.js';
import { recount } from '../helpers/recount.js';
import { REDIS_URL, freshPrefix } from '../helpers/redis.js';
import { seedIncidents } from '../helpers/seed.js';

const T0 = Date.parse('2026-03-02T09:00:00Z');
const prefix = freshPrefix('migrate3');
const keys = createKeys(prefix);
const redis = new Redis(REDIS_URL);
let t: TestApp;

/** Data as schema 2 left it: counted incidents, plus the `cnt` hash and `incs:open` / `incs:all`
 * that version kept (stale here on purpose: nothing may read them any more). */
beforeAll(async () => {
  await seedIncidents(redis, prefix, 60, { days: 3, endAt: T0 });
  await redis
    .multi()
    .hset(keys.counters(), { 'open:P0': 99, 'st:triggered': 99, 'st:resolved': 1 })
    .zadd(keys.open(), 1, 'INC-1', 2, 'INC-2')
    .zadd(keys.all(), 1, 'INC-1', 2, 'INC-2')
    .set(keys.schemaVersion(), '2')
    .exec();
  ({ t } = await build({ prefix, clock: new FakeClock(T0) }));
});
afterAll(async () => {
  redis.disconnect();
});

describe('start-up migration from schema 2', () => {
  it('drops the counters hash and the open/all indexes; counts come from the state indexes', async () => {
    expect(SCHEMA_VERSION).toBe(3);
    expect(await redis.get(keys.schemaVersion())).toBe('3');
    expect(await redis.exists(keys.counters(), keys.open(), keys.all())).toBe(0);
    const { want, have } = await recount(redis, keys);
    // seed: every tenth open (every thirtieth acknowledged), severities P0..P3 in turn
    expect(have.states).toEqual({ triggered: 4, acknowledged: 2, resolved: 54 });
    expect(have.states).toEqual(want.states);
    expect(have.open).toEqual(want.open);
    expect(have.index).toEqual(want.index);
    const m = await (await fetch(`${t.url}/metrics`)).text();
    expect(m).toMatch(new RegExp(`opsbot_incidents_open\\{severity="P0"\\} ${want.open.P0}\\b`));
    const res = await fetch(`${t.url}/api/v1/incidents?state=open&limit=4`, {
      headers: { authorization: `Bearer ${TOKENS.api}` },
    });
    const body = (await res.json()) as {
      incidents: { id: string; timeline: unknown[]; timeline_total: number }[];
      next_cursor: string | null;
    };
    expect(body.incidents.map((i) => i.id)).toEqual(
      want.index
        .triggered!.concat(want.index.acknowledged!)
        .sort((a, b) => Number(b.slice(4)) - Number(a.slice(4)))
        .slice(0, 4),
    );
    expect(body.next_cursor).toBe(body.incidents[3]!.id);
    for (const i of body.incidents) expect(i.timeline).toHaveLength(i.timeline_total);
  });
});
