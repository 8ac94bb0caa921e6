import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { createSuppressions } from '../../src/incidents/silences.js';
import { createDmSubscriptions } from '../../src/store/subscriptions.js';
import { createSuppressionRecords } from '../../src/store/suppressions.js';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { PEOPLE, TOKENS } from '../helpers/config.js';
import { REDIS_URL } from '../helpers/redis.js';
import type { TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let t: TestApp;
let clock: FakeClock;
/** Another client, as another replica would use, for changes intake did not make itself. */
let other: Redis;

beforeAll(async () => {
  clock = new FakeClock(Date.parse('2026-03-02T10:00:00Z'));
  ({ kit, t } = await build({ storeTimeout: 3600, clock }));
  other = new Redis(REDIS_URL);
});
afterAll(async () => {
  other?.disconnect();
});

/** Records every command the app's Redis client sends (each a round trip: intake pipelines nothing). */
function recordCommands(): { names: string[]; stop(): void } {
  const client = t.app.services.redis;
  const names: string[] = [];
  const orig = client.sendCommand;
  client.sendCommand = function (this: Redis, cmd, ...rest) {
    names.push(cmd.name);
    return orig.call(this, cmd, ...rest);
  } as typeof client.sendCommand;
  return {
    names,
    stop: () => {
      client.sendCommand = orig;
    },
  };
}

const batch = (from: number, n: number, labels: Record<string, string> = {}) =>
  Array.from({ length: n }, (_, i) => ({
    title: `batch alert ${from + i}`,
    dedup_key: `batch-${from + i}`,
    severity: 'warning',
    status: 'firing',
    labels: { service: 'batch', ...labels },
  }));

describe('intake: one round trip per request', () => {
  it('a batch of N alerts is one script call, whatever N', async () => {
    // the first request loads the silence/maintenance/DM snapshot; afterwards it is only checked
    expect((await post(`${t.url}/hooks/generic`, batch(0, 1), TOKENS.ci)).status).toBe(202);
    // the workers share the client: stopped, so only intake's commands are recorded
    const s = t.app.services;
    await s.outbox.stop();
    await s.timers.stop();
    await t.app.history.stop();
    for (const n of [1, 25, 200]) {
      const rec = recordCommands();
      const r = await post(`${t.url}/hooks/generic`, batch(1000 * n, n), TOKENS.ci);
      rec.stop();
      expect(r.status).toBe(202);
      expect((r.body.incidents as string[]).length).toBe(n);
      expect(rec.names).toEqual(['evalsha']);
    }
    s.outbox.start();
    s.timers.start(50);
    t.app.history.start();
  });

  it('a batch folding into the same incident twice stores it once and counts it once', async () => {
    const twice = [...batch(5000, 1), ...batch(5000, 1), ...batch(5001, 1)];
    const r = await post(`${t.url}/hooks/generic`, twice, TOKENS.ci);
    expect(r.status).toBe(202);
    const ids = r.body.incidents as string[];
    expect(ids.length).toBe(2);
    const inc = await t.app.services.repo.get(ids[0]!);
    expect(inc?.alertCount).toBe(1);
    expect(inc?.state).toBe('triggered');
  });
});

describe('intake: outbox job numbers', () => {
  it('stay distinct when a batch mixes new incidents with an update that queues a sync', async () => {
    const s = t.app.services;
    await s.outbox.stop();
    try {
      const first = await post(`${t.url}/hooks/generic`, batch(9000, 1), TOKENS.ci);
      const a = (first.body.incidents as string[])[0]!;
      const chat = (await s.repo.get(a))!.chats[0]!;
      // its first card delivered: shown in the chat, its job gone, so the resolution's re-render
      // is a new job that ob_push numbers itself
      await other.hset(s.keys.messages(a), chat, '77');
      await other.hdel(s.keys.obCoalesce(chat), `sync:${a}`);
      const mixed = [
        ...batch(9001, 1),
        { ...batch(9000, 1)[0]!, status: 'resolved' },
        ...batch(9002, 1),
      ];
      const r = await post(`${t.url}/hooks/generic`, mixed, TOKENS.ci);
      expect(r.status).toBe(202);
      const [b, , c] = r.body.incidents as string[];
      const co = await other.hgetall(s.keys.obCoalesce(chat));
      const ids = [a, b!, c!].map((i) => co[`sync:${i}`]);
      expect(new Set(ids).size).toBe(3);
      for (const [k, inc] of [a, b!, c!].entries()) {
        const job = JSON.parse((await other.get(s.keys.obJob(ids[k]!)))!) as {
          data: { inc: string };
        };
        expect(job.data.inc).toBe(inc);
      }
      expect(Number(await other.get(s.keys.obSeq()))).toBeGreaterThanOrEqual(
        Math.max(...ids.map(Number)),
      );
    } finally {
      s.outbox.start();
    }
  });
});

describe('intake: the suppression cache never serves a stale silence', () => {
  it('a silence created by another replica applies to an alert 1 ms later', async () => {
    const first = await post(`${t.url}/hooks/generic`, batch(7000, 1, { team: 'db' }), TOKENS.ci);
    const firstInc = await t.app.services.repo.get((first.body.incidents as string[])[0]!);
    expect(firstInc?.silenced).toBe(false);
    // another replica (its own client and store) adds a silence; this app's cache knows nothing of it
    const silences = createSuppressions({
      records: createSuppressionRecords({ redis: other, keys: t.app.services.keys }, 'silences'),
      clock,
    });
    await silences.add({ matchers: { team: 'db' }, until: clock.now() + 3_600_000, by: 'alice' });
    clock.advance(1);
    const r = await post(`${t.url}/hooks/generic`, batch(7001, 1, { team: 'db' }), TOKENS.ci);
    expect(r.status).toBe(202);
    const inc = await t.app.services.repo.get((r.body.incidents as string[])[0]!);
    expect(inc?.silenced).toBe(true);
    // and once it is expired, the next alert is posted again
    const list = await silences.active();
    await silences.expire(list[0]!.id);
    clock.advance(1);
    const after = await post(`${t.url}/hooks/generic`, batch(7002, 1, { team: 'db' }), TOKENS.ci);
    expect((await t.app.services.repo.get((after.body.incidents as string[])[0]!))?.silenced).toBe(
      false,
    );
  });

  it('a maintenance window and a DM subscription made elsewhere apply at once', async () => {
    const keys = t.app.services.keys;
    await post(`${t.url}/hooks/generic`, batch(8000, 1), TOKENS.ci);
    const maint = createSuppressions({
      records: createSuppressionRecords({ redis: other, keys }, 'maintenance'),
      clock,
    });
    await maint.add({ matchers: { service: 'maint' }, until: clock.now() + 60_000, by: 'root' });
    clock.advance(1);
    const m = await post(`${t.url}/hooks/generic`, batch(8001, 1, { service: 'maint' }), TOKENS.ci);
    expect((await t.app.services.repo.get((m.body.incidents as string[])[0]!))?.silenced).toBe(
      true,
    );

    const dms = createDmSubscriptions({ redis: other, keys, clock, config: t.config });
    await dms.set(PEOPLE.bob, 'P3');
    clock.advance(1);
    const d = await post(`${t.url}/hooks/generic`, batch(8002, 1), TOKENS.ci);
    expect(d.status).toBe(202);
    await kit.waitForMessage((x) => x.chatId === PEOPLE.bob && x.text.includes('batch alert 8002'));
  });
});

describe('intake: large batches', () => {
  it('500 alerts routed to several chats and DMs are stored in one call', async () => {
    const keys = t.app.services.keys;
    const dms = createDmSubscriptions({ redis: other, keys, clock, config: t.config });
    for (const p of Object.values(PEOPLE)) await dms.set(p, 'P3');
    clock.advance(1);
    const r = await post(`${t.url}/hooks/generic`, batch(9000, 500), TOKENS.ci);
    expect(r.status).toBe(202);
    expect((r.body.incidents as string[]).length).toBe(500);
    const c = await t.app.services.repo.counts();
    expect(c.states.triggered).toBeGreaterThanOrEqual(500);
  });
});
