import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { SCHEMA_VERSION } from '../../src/incidents/history.js';
import { createKeys } from '../../src/store/keys.js';
import type { TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE, TOKENS } from '../helpers/config.js';
import { recount } from '../helpers/recount.js';
import { REDIS_URL, freshPrefix } from '../helpers/redis.js';
import type { TelegramKit } from '../helpers/telegram.js';

const T0 = Date.parse('2026-01-05T09:00:00Z');
const MIN = 60_000;
const prefix = freshPrefix('migrate');
const keys = createKeys(prefix);
const redis = new Redis(REDIS_URL);
const clock = new FakeClock(T0 + 3 * 86_400_000);
let kit: TelegramKit;
let t: TestApp;

const STATES = ['triggered', 'acknowledged', 'resolved'] as const;
const SEVS = ['P0', 'P1', 'P2', 'P3'] as const;
const N = 30;

/** Writes incidents exactly as the scripts before the counters stored them: hash, alerts, firing set,
 * dedup key, incs:open / incs:all, timeline and the escalation and breach timers; no counters. */
async function writeOldShape() {
  const p = redis.pipeline();
  for (let n = 1; n <= N; n++) {
    const id = `INC-${n}`;
    const ik = keys.incident(id);
    const state = STATES[n % 3]!;
    const sev = SEVS[n % 4]!;
    const created = T0 + n * 97 * MIN;
    p.hset(ik, {
      id,
      seq: n,
      state,
      severity: sev,
      title: `old alert ${n % 5}`,
      description: '',
      source: 'generic',
      integration: 'ci',
      dedup: `old-${n}`,
      chats: JSON.stringify([String(GROUP)]),
      labels: '{}',
      links: '{}',
      created_at: created,
      updated_at: created,
      alert_count: 1,
      firing_count: state === 'resolved' ? 0 : 1,
      level: 0,
      loop: 0,
      silenced: n === 4 ? 1 : 0,
      started_at: created,
      esc_step: '0:0',
      loop_start: created,
      esc_timer: `esc:${id}:0:0`,
      ...(state !== 'triggered' ? { ack_at: created + 4 * MIN, ack_by: 'alice' } : {}),
      ...(state === 'resolved' ? { resolved_at: created + 42 * MIN, resolved_by: 'bob' } : {}),
    });
    p.hset(`${ik}:alerts`, 'fp', '{}');
    if (state !== 'resolved') {
      p.sadd(`${ik}:firing`, 'fp');
      p.set(keys.dedup(`old-${n}`), id);
      p.zadd(keys.open(), created, id);
    }
    p.zadd(keys.all(), created, id);
    const tl = [{ t: created, type: 'triggered', actor: 'generic', text: 'x' }];
    if (state !== 'triggered')
      tl.push({ t: created + 4 * MIN, type: 'acknowledged', actor: 'alice', text: '' });
    if (state === 'resolved')
      tl.push({ t: created + 42 * MIN, type: 'resolved', actor: 'bob', text: '' });
    p.rpush(`${ik}:tl`, ...tl.map((e) => JSON.stringify(e)));
    // the old resolution via intake left these pending
    p.zadd(keys.timers(), created + 30 * 86_400_000, `esc:${id}:0:0`);
    p.set(
      keys.timerData(`esc:${id}:0:0`),
      JSON.stringify({ kind: 'esc', inc: id, loop: 0, level: 0 }),
    );
    p.zadd(keys.timers(), created + 30 * 86_400_000, `breach:${id}`);
    p.set(keys.timerData(`breach:${id}`), JSON.stringify({ kind: 'breach', inc: id }));
  }
  p.set(keys.seq(), N);
  await p.exec();
}

beforeAll(async () => {
  await writeOldShape();
  ({ kit, t } = await build({ prefix, clock }));
});
afterAll(async () => {
  redis.disconnect();
});

describe('start-up migration of data stored by the previous version', () => {
  it('rebuilds counters, state indexes and aggregates, and sets the schema version', async () => {
    expect(await redis.get(keys.schemaVersion())).toBe(String(SCHEMA_VERSION));
    const { want, have } = await recount(redis, keys);
    expect(have.states).toEqual({ triggered: 10, acknowledged: 10, resolved: 10 });
    expect(have.open).toEqual(want.open);
    expect(have.index).toEqual(want.index);
    expect(have.opensev).toEqual(want.opensev);
    expect(have.agg).toEqual(want.agg);
    expect(await t.app.services.repo.countSilenced()).toBe(1);
    // resolved incidents lost their leftover timers; open ones kept theirs
    const due = await redis.zrange(keys.timers(), 0, -1);
    expect(due).not.toContain('breach:INC-2'); // resolved
    expect(due).not.toContain('esc:INC-2:0:0');
    expect(await redis.exists(keys.timerData('breach:INC-2'))).toBe(0);
    expect(due).toContain('breach:INC-1'); // acknowledged: the old data keeps it
  });

  it('pages, /incidents, /status, /stats and /metrics read the migrated data', async () => {
    const res = await fetch(`${t.url}/api/v1/incidents?state=open&limit=7`, {
      headers: { authorization: `Bearer ${TOKENS.api}` },
    });
    const body = (await res.json()) as { incidents: { id: string }[]; next_cursor: string };
    expect(body.incidents.map((i) => i.id)).toEqual([
      'INC-30',
      'INC-28',
      'INC-27',
      'INC-25',
      'INC-24',
      'INC-22',
      'INC-21',
    ]);
    expect(body.next_cursor).toBe('INC-21');
    const m = await (await fetch(`${t.url}/metrics`)).text();
    expect(m).toMatch(/opsbot_incidents_open\{severity="P0"\} 5/);
    const u = kit.user({ id: PEOPLE.alice, name: 'alice', chatId: GROUP, chatType: 'supergroup' });
    await u.command('/status');
    const st = await kit.waitForMessage(
      (x) => x.chatId === GROUP && x.text.includes('opsbot status'),
    );
    expect(st.text).toContain('Open incidents: <b>20</b>');
    expect(st.text).toContain('P0: 5 · 🟠 P1: 5');
    expect(st.text).toContain('Oldest unacknowledged: <code>INC-3</code>');
    expect(st.text).toContain('Silenced open incidents: 1');
    await u.command('/incidents');
    const li = await kit.waitForMessage(
      (x) => x.chatId === GROUP && x.text.includes('Open incidents: 20'),
    );
    expect(li.text).toContain('INC-4');
    await u.command('/stats 7d');
    const s = await kit.waitForMessage(
      (x) => x.chatId === GROUP && x.text.includes('Response statistics'),
    );
    // 30 old incidents, 10 resolved at 42 min, 20 acknowledged at 4 min; "old alert 0".."4" ranked
    expect(s.text).toMatch(/Incidents last 7d: 30/);
    expect(s.text).toContain('alice');
    expect(s.text).toMatch(/\d+\s+old alert/);
  });
});
