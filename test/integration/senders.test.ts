import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpsbotConfig } from '../../src/config.js';
import { migrateDedupKeys } from '../../src/intake/dedup.js';
import { createDedupMigrationStore } from '../../src/store/dedup-migration.js';
import { createKeys } from '../../src/store/keys.js';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { TOKENS, testConfig } from '../helpers/config.js';
import { REDIS_URL, dropPrefix, freshPrefix } from '../helpers/redis.js';
import { startTelegram, type TelegramKit } from '../helpers/telegram.js';

// Issue 13 item 5: senders are kept apart (per-integration dedup, auth before the body, in-flight cap)

const CI2 = 'ci2-token-1234567890';
const PD2 = 'pd2-routing-key-1234567890';

/** The test config plus a second integration of the generic and events-v2 kinds. */
function twoOfAKind(http?: OpsbotConfig['http']): OpsbotConfig {
  const c = testConfig();
  c.integrations.ci2 = { kind: 'generic', token: CI2 };
  c.integrations.pd2 = { kind: 'events-v2', token: PD2 };
  if (http) c.http = http;
  return c;
}

let kit: TelegramKit;
let t: TestApp;
const prefixes: string[] = [];

beforeAll(async () => {
  kit = await startTelegram({ storeTimeout: 3600 });
  t = await startTestApp({
    apiRoot: kit.apiRoot,
    token: kit.token,
    polling: false,
    config: twoOfAKind(),
  });
  prefixes.push(t.prefix);
});
afterAll(async () => {
  await t?.stop();
  await kit?.stop();
  for (const p of prefixes) await dropPrefix(p);
});

const generic = (url: string, token: string, dedup: string, status: 'firing' | 'resolved') =>
  post(`${url}/hooks/generic`, { title: `Disk full ${dedup}`, status, dedup_key: dedup }, token);
const ev2 = (url: string, key: string, action: string, dedup: string) =>
  post(`${url}/v2/enqueue`, {
    routing_key: key,
    event_action: action,
    dedup_key: dedup,
    ...(action === 'trigger'
      ? { payload: { summary: `Login failures ${dedup}`, source: 'auth-1', severity: 'critical' } }
      : {}),
  });

describe('dedup keys are per integration', () => {
  it("integration B's token cannot resolve or acknowledge integration A's incident; B gets its own handling", async () => {
    const a = await generic(t.url, TOKENS.ci, 'db-down', 'firing');
    expect(a.status).toBe(202);
    const incA = (a.body.incidents as string[])[0]!;

    // B posts A's dedup_key as resolved: nothing of B's is open under that key, so it is ignored
    const bRes = await generic(t.url, CI2, 'db-down', 'resolved');
    expect(bRes.status).toBe(202);
    expect(bRes.body.incidents).toEqual([]);
    expect((await t.app.services.repo.get(incA))?.state).toBe('triggered');

    // B firing the same key opens B's own incident; B resolving it leaves A's alone
    const bFire = await generic(t.url, CI2, 'db-down', 'firing');
    const incB = (bFire.body.incidents as string[])[0]!;
    expect(incB).not.toBe(incA);
    await generic(t.url, CI2, 'db-down', 'resolved');
    expect((await t.app.services.repo.get(incB))?.state).toBe('resolved');
    expect((await t.app.services.repo.get(incA))?.state).toBe('triggered');

    // the API shows the sender's own key, and which integration it belongs to
    const res = await fetch(`${t.url}/api/v1/incidents/${incA}`, {
      headers: { authorization: `Bearer ${TOKENS.api}` },
    });
    expect(await res.json()).toMatchObject({ dedup: 'generic:db-down', integration: 'ci' });

    // A still resolves its own incident
    await generic(t.url, TOKENS.ci, 'db-down', 'resolved');
    expect((await t.app.services.repo.get(incA))?.state).toBe('resolved');
  });

  it('events v2: another routing key acknowledging or resolving the same dedup_key changes nothing', async () => {
    const trig = await ev2(t.url, TOKENS.pd, 'trigger', 'login');
    expect(trig.status).toBe(202);
    const inc = (await t.app.services.repo.listOpen()).find(
      (i) => i.title === 'Login failures login',
    )!;
    expect(inc.integration).toBe('pd');
    for (const action of ['acknowledge', 'resolve']) {
      const r = await ev2(t.url, PD2, action, 'login');
      expect(r.status).toBe(202);
      expect(r.body.dedup_key).toBe('login');
      const now = await t.app.services.repo.get(inc.id);
      expect(now?.state).toBe('triggered');
      expect(now?.updatedAt).toBe(inc.updatedAt);
    }
    await ev2(t.url, TOKENS.pd, 'acknowledge', 'login');
    expect((await t.app.services.repo.get(inc.id))?.state).toBe('acknowledged');
  });

  it('upgrade: incidents open under legacy un-scoped keys are re-keyed at start and keep folding', async () => {
    const prefix = freshPrefix('upgrade');
    prefixes.push(prefix);
    // opsbot before the upgrade: open incidents, then its keys put back in the legacy form
    const before = await startTestApp({
      apiRoot: kit.apiRoot,
      token: kit.token,
      polling: false,
      prefix,
      config: twoOfAKind(),
    });
    const redis = new Redis(REDIS_URL);
    const keys = createKeys(prefix);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await generic(before.url, TOKENS.ci, `legacy-${i}`, 'firing');
      ids.push((r.body.incidents as string[])[0]!);
    }
    const done = await generic(before.url, TOKENS.ci, 'closed', 'firing');
    const closedId = (done.body.incidents as string[])[0]!;
    await generic(before.url, TOKENS.ci, 'closed', 'resolved');
    await before.stop();
    for (let i = 0; i < 5; i++) {
      await redis.rename(keys.dedup(`ci/generic:legacy-${i}`), keys.dedup(`generic:legacy-${i}`));
      await redis.hset(keys.incident(ids[i]!), 'dedup', `generic:legacy-${i}`);
    }
    await redis.set(keys.dedup('generic:closed'), closedId); // a stale pointer to a closed incident
    await redis.set(keys.dedup('manual:abc'), 'INC-999'); // not from an integration: left alone
    await redis.del(keys.migrations());

    // a second run after a crash mid-way, in small SCAN batches, is harmless (re-keys nothing twice)
    const first = await migrateDedupKeys({
      store: createDedupMigrationStore({ redis, keys }),
      batch: 2,
    });
    expect(first).toEqual({ migrated: 5, skipped: false });
    expect(await redis.get(keys.dedup('generic:legacy-0'))).toBeNull();
    expect(await redis.get(keys.dedup('ci/generic:legacy-0'))).toBe(ids[0]);
    expect(await redis.get(keys.dedup('generic:closed'))).toBeNull();
    expect(await redis.get(keys.dedup('manual:abc'))).toBe('INC-999');
    await redis.hdel(keys.migrations(), 'dedup_scope');
    expect(
      await migrateDedupKeys({ store: createDedupMigrationStore({ redis, keys }), batch: 2 }),
    ).toEqual({
      migrated: 0,
      skipped: false,
    });
    expect(await migrateDedupKeys({ store: createDedupMigrationStore({ redis, keys }) })).toEqual({
      migrated: 0,
      skipped: true,
    });

    // back to legacy keys for legacy-3 and legacy-4, then the real upgrade: a start runs the migration
    for (const i of [3, 4]) {
      await redis.rename(keys.dedup(`ci/generic:legacy-${i}`), keys.dedup(`generic:legacy-${i}`));
      await redis.hset(keys.incident(ids[i]!), 'dedup', `generic:legacy-${i}`);
    }
    await redis.del(keys.migrations());
    const after = await startTestApp({
      apiRoot: kit.apiRoot,
      token: kit.token,
      polling: false,
      prefix,
      config: twoOfAKind(),
    });
    try {
      for (const i of [0, 3, 4]) {
        const again = await generic(after.url, TOKENS.ci, `legacy-${i}`, 'firing');
        expect(again.body.incidents).toEqual([ids[i]]);
        const inc = await after.app.services.repo.get(ids[i]!);
        expect(inc).toMatchObject({ state: 'triggered', dedup: `generic:legacy-${i}` });
      }
      // and the other integration of the same kind still cannot touch them
      await generic(after.url, CI2, 'legacy-3', 'resolved');
      expect((await after.app.services.repo.get(ids[3]!))?.state).toBe('triggered');
      await generic(after.url, TOKENS.ci, 'legacy-3', 'resolved');
      expect((await after.app.services.repo.get(ids[3]!))?.state).toBe('resolved');
    } finally {
      await after.stop();
      redis.disconnect();
    }
  });
});

/** Sends a request's head and only the start of its body; resolves with the first response bytes. */
function partialRequest(
  url: string,
  path: string,
  headers: Record<string, string>,
  declared: number,
  sent: number,
): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), hostname, () => {
      const head = Object.entries({
        host: `${hostname}:${port}`,
        'content-type': 'application/json',
        'content-length': String(declared),
        ...headers,
      })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      sock.write(`POST ${path} HTTP/1.1\r\n${head}\r\n`);
      sock.write('x'.repeat(sent));
    });
    sock.once('data', (d) => {
      resolve(d.toString('latin1'));
      sock.destroy();
    });
    sock.once('error', reject);
  });
}

describe('intake authenticates before reading the body', () => {
  const big = { title: 'x'.repeat(1.5 * 1024 * 1024), status: 'firing' };

  it('a 1.5 MiB body with no or a bad token gets 401, not 413; with a good token still 413', async () => {
    expect((await post(`${t.url}/hooks/generic`, big)).status).toBe(401);
    expect((await post(`${t.url}/hooks/generic`, big, 'wrong-token-xxxxxxxx')).status).toBe(401);
    expect((await post(`${t.url}/hooks/alertmanager`, big, TOKENS.ci)).status).toBe(401);
    expect((await post(`${t.url}/hooks/heartbeat/backups`, big)).status).toBe(401);
    expect((await post(`${t.url}/hooks/generic`, big, TOKENS.ci)).status).toBe(413);
  });

  it('an unauthenticated body is never parsed: broken JSON with a bad token is 401, not 400', async () => {
    const broken = '{"title": "x", ';
    expect((await post(`${t.url}/hooks/generic`, broken, 'wrong-token-xxxxxxxx')).status).toBe(401);
    expect((await post(`${t.url}/hooks/grafana`, broken)).status).toBe(401);
    const hb = await post(`${t.url}/hooks/heartbeat/backups`, broken, 'wrong-token-xxxxxxxx');
    expect(hb.status).toBe(401);
    expect((await post(`${t.url}/hooks/heartbeat/nope`, broken, TOKENS.backups)).status).toBe(401);
    // with the right token the body is read and refused as it should be
    expect((await post(`${t.url}/hooks/generic`, broken, TOKENS.ci)).status).toBe(400);
  });

  it('the 401 comes before the body has even arrived', { timeout: 5000 }, async () => {
    const head = await partialRequest(
      t.url,
      '/hooks/generic',
      { authorization: 'Bearer wrong-token-xxxxxxxx' },
      100_000,
      1000,
    );
    expect(head).toMatch(/^HTTP\/1\.1 401 /);
    const hb = await partialRequest(t.url, '/hooks/heartbeat/backups', {}, 100_000, 1000);
    expect(hb).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('/v2/enqueue (key in the body) takes at most 512 KiB', async () => {
    const r = await post(`${t.url}/v2/enqueue`, {
      routing_key: TOKENS.pd,
      event_action: 'trigger',
      dedup_key: 'big',
      payload: {
        summary: 'big event',
        source: 'x',
        severity: 'info',
        custom_details: { blob: 'y'.repeat(600 * 1024) },
      },
    });
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/524288/);
  });
});

describe('a global cap on intake requests in flight', () => {
  it('above http.max_in_flight intake answers 503 with Retry-After; the slot frees when the request ends', async () => {
    const capped = await startTestApp({
      apiRoot: kit.apiRoot,
      token: kit.token,
      polling: false,
      config: twoOfAKind({ max_in_flight: 1 }),
    });
    prefixes.push(capped.prefix);
    let release: (() => void) | undefined;
    let first: ReturnType<typeof generic> | undefined;
    try {
      // stall the store: the first request stays in flight until the test lets it go (later ones
      // would pass straight through, so without a cap they would be answered 202)
      const intake = capped.app.services.intake;
      const real = intake.ingest.bind(intake);
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      const gate = new Promise<void>((r) => (release = r));
      let calls = 0;
      intake.ingest = async (alerts) => {
        console.log('ingest', calls, JSON.stringify(alerts).slice(0, 80));
        if (calls++ === 0) {
          entered();
          await gate;
        }
        return real(alerts);
      };
      first = generic(capped.url, TOKENS.ci, 'held', 'firing');
      await inside;

      console.log('inside');
      const shed = await generic(capped.url, CI2, 'other', 'firing');
      expect(shed.status).toBe(503);
      expect(shed.headers.get('retry-after')).toBe('1');
      expect(shed.body.error).toMatch(/in flight/);
      expect((await ev2(capped.url, TOKENS.pd, 'trigger', 'x')).status).toBe(503);
      expect((await post(`${capped.url}/hooks/heartbeat/backups`, '', TOKENS.backups)).status).toBe(
        503,
      );
      // a stranger is still told 401; health and the read API are not intake
      expect((await generic(capped.url, 'wrong-token-xxxxxxxx', 'x', 'firing')).status).toBe(401);
      expect((await fetch(`${capped.url}/healthz`)).status).toBe(200);

      intake.ingest = real;
      release?.();
      expect((await first).status).toBe(202);
      const next = await generic(capped.url, CI2, 'other', 'firing');
      expect(next.status).toBe(202);
    } finally {
      // a failed assertion must not leave the held request hanging the shutdown
      release?.();
      await first?.catch(() => undefined);
      await capped.stop();
    }
  });
});
