import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { GROUP, TOKENS, testConfig, testConfigYaml } from '../helpers/config.js';
import { parseConfig } from '../../src/config.js';
import { REDIS_URL, dropPrefix } from '../helpers/redis.js';
import { startTelegram, type TelegramKit } from '../helpers/telegram.js';

/**
 * Storms and priority on the fake clock with Telegram's real limits (1/s per chat, 20/min per
 * group, 30/s overall: the config defaults), against real Redis and the Bot API emulator. The
 * outbox's background loop is stopped; the test drives the same drain() step by step in fake time,
 * so every Bot API call is stamped with the fake instant it went out at.
 */
const redis = new Redis(REDIS_URL);
let kit: TelegramKit;
let t: TestApp;
let clock: FakeClock;
const prefixes: string[] = [];

beforeAll(async () => {
  kit = await startTelegram();
});
beforeEach(async () => {
  clock = new FakeClock();
  t = await startTestApp({
    apiRoot: kit.apiRoot,
    token: kit.token,
    config: testConfig(),
    clock,
    polling: false,
  });
  prefixes.push(t.prefix);
  await t.app.services.outbox.stop();
  log.length = 0;
});
afterEach(async () => {
  await t?.stop();
});
afterAll(async () => {
  await kit?.stop();
  for (const p of prefixes) await dropPrefix(p);
  redis.disconnect();
});

interface Sent {
  at: number;
  method: string;
  text: string;
}
/** Bot API sends and edits to the group, with the fake time they went out at. */
const log: Sent[] = [];
const STEP = 100;

/** Lets the (real-time) timer worker fire every timer due at the fake now, e.g. escalation level 0. */
async function settleTimers() {
  const k = t.app.services.keys;
  await kit.waitFor(
    async () =>
      (await redis.zcount(k.timers(), '-inf', clock.now())) === 0 &&
      (await redis.zcard(k.timerInflight())) === 0,
    { label: 'due timers fired' },
  );
}

/**
 * One outbox step at the current fake instant: whatever the limits allow goes out now. By default
 * due timers fire first; `settle: false` races the outbox against them, as in production.
 */
async function drain(o: { settle?: boolean } = {}) {
  if (o.settle !== false) await settleTimers();
  const before = kit.calls.length;
  await t.app.services.outbox.drain();
  for (const c of kit.calls.slice(before))
    if (
      (c.method === 'sendMessage' || c.method === 'editMessageText') &&
      Number(c.body.chat_id) === GROUP
    )
      log.push({ at: clock.now(), method: c.method, text: String(c.body.text ?? '') });
}

/** Runs the outbox for `ms` of fake time (or until `until` holds). */
async function run(ms: number, until?: () => Promise<boolean> | boolean) {
  const end = clock.now() + ms;
  while (clock.now() < end) {
    await drain();
    if (until && (await until())) return;
    clock.advance(STEP);
  }
}

/** The earliest instant >= `from` at which the group may be sent to again, given what was sent. */
function nextFreeSlot(from: number): number {
  const times = log.map((s) => s.at).sort((a, b) => a - b);
  let at = from;
  for (;;) {
    const last = times.filter((x) => x <= at).at(-1);
    if (last !== undefined && at < last + 1000) {
      at = last + 1000;
      continue;
    }
    const inWindow = times.filter((x) => x > at - 60_000 && x <= at);
    if (inWindow.length >= 20) {
      at = inWindow[0]! + 60_000;
      continue;
    }
    return at;
  }
}

const storm = (n: number, status: 'firing' | 'resolved') =>
  Array.from({ length: n }, (_, i) => ({
    title: `routine ${i}`,
    severity: 'warning',
    status,
    dedup_key: `storm-${i}`,
  }));

async function ingest(body: unknown) {
  const r = await post(`${t.url}/hooks/generic`, body, TOKENS.ci);
  expect(r.status).toBe(202);
}

async function groupOutboxEmpty() {
  const k = t.app.services.keys;
  const chat = String(GROUP);
  const lens = await Promise.all([0, 1, 2, 3].map((l) => redis.llen(k.obLane(chat, l))));
  return {
    lanes: lens,
    coalesce: await redis.hlen(k.obCoalesce(chat)),
    ready: await redis.zscore(k.obReady(), chat),
    inflight: await redis.zcard(k.obInflight()),
    depth: await t.app.services.outbox.depth(),
  };
}
const EMPTY = { lanes: [0, 0, 0, 0], coalesce: 0, ready: null, inflight: 0, depth: 0 };

const isCard = (s: Sent, title: string) =>
  s.method === 'sendMessage' && s.text.includes(`<b>${title}</b>`);

describe('a page is never stuck behind noise (issue 13, item 0)', () => {
  it('300 alerts, all resolved, then a new P0: its card goes out in the next free slot and the queue drains to empty', async () => {
    const t0 = clock.now();
    // the batch arrives and the outbox takes what it can at once; then escalation level 0 fires
    await ingest(storm(300, 'firing'));
    await drain({ settle: false });
    await run(60_000);
    const stormSends = log.length;
    expect(stormSends).toBeGreaterThan(0);
    expect(stormSends).toBeLessThanOrEqual(20);

    // the storm ends: all 300 resolve
    const tResolved = clock.now();
    await ingest(storm(300, 'resolved'));
    expect((await t.app.services.repo.counts()).states).toMatchObject({
      triggered: 0,
      acknowledged: 0,
    });
    await run(5_000);

    // a new P0
    const tP0 = clock.now();
    await ingest({
      title: 'Database down',
      severity: 'critical',
      status: 'firing',
      dedup_key: 'p0',
    });
    const slot = nextFreeSlot(tP0);
    await run(150_000, () => log.some((s) => isCard(s, 'Database down')));
    const after = log.filter((s) => s.at >= tP0);
    expect(after[0], 'the P0 card is the first thing the group gets').toBeDefined();
    expect(isCard(after[0]!, 'Database down')).toBe(true);
    expect(after[0]!.at - slot).toBeLessThanOrEqual(STEP);

    // the end of the storm cost a bounded number of messages: edits of what the storm posted
    const endOfStorm = log.filter((s) => s.at >= tResolved && s.at < tP0);
    expect(endOfStorm.every((s) => s.method === 'editMessageText')).toBe(true);
    expect(endOfStorm.length).toBeLessThanOrEqual(stormSends);
    const digests = log.filter((s) => s.at < tResolved && s.text.includes('Alert storm'));
    expect(digests.length).toBeGreaterThan(0);

    // and everything drains: nothing left queued for the group
    await run(600_000, async () => (await t.app.services.outbox.depth()) === 0);
    await run(2_000);
    expect(await groupOutboxEmpty()).toEqual(EMPTY);
    // the digests now say that everything resolved
    const lastDigestEdits = log.filter(
      (s) => s.method === 'editMessageText' && s.text.includes('Alert storm'),
    );
    expect(lastDigestEdits.length).toBeGreaterThan(0);
    expect(lastDigestEdits.every((s) => s.text.includes('✅'))).toBe(true);
    // Telegram's limits held throughout
    for (const s of log) {
      expect(log.filter((x) => x.at >= s.at && x.at < s.at + 1000)).toHaveLength(1);
      expect(log.filter((x) => x.at >= s.at && x.at < s.at + 60_000).length).toBeLessThanOrEqual(
        20,
      );
    }
    expect(clock.now() - t0).toBeLessThan(15 * 60_000);
  });

  it('during a storm a new P0 goes ahead of the queued routine cards, in the next free slot', async () => {
    // routine cards below the digest threshold wait their turn at 1/s
    await ingest(storm(4, 'firing'));
    await drain();
    expect(log).toHaveLength(1);
    clock.advance(300);
    // then a storm of 300 and, right behind it, a P0
    await ingest(storm(300, 'firing').map((a) => ({ ...a, dedup_key: `b-${a.dedup_key}` })));
    const tP0 = clock.now();
    await ingest({
      title: 'Payments down',
      severity: 'critical',
      status: 'firing',
      dedup_key: 'p0',
    });
    expect(await t.app.services.outbox.depth()).toBeGreaterThan(3);
    const slot = nextFreeSlot(tP0);
    await run(60_000, () => log.some((s) => isCard(s, 'Payments down')));
    const after = log.filter((s) => s.at >= tP0);
    expect(isCard(after[0]!, 'Payments down')).toBe(true);
    expect(after[0]!.at - slot).toBeLessThanOrEqual(STEP);
    // the P0 has its own card, with buttons, and is in no digest
    expect(log.filter((s) => s.text.includes('Payments down'))).toHaveLength(1);
    await run(600_000, async () => (await t.app.services.outbox.depth()) === 0);
    expect(await groupOutboxEmpty()).toEqual(EMPTY);
  });

  it('a sync that would change nothing sends nothing and costs no pacing slot', async () => {
    await ingest({ title: 'disk 91%', severity: 'warning', status: 'firing', dedup_key: 'a' });
    await drain();
    expect(log.map((s) => s.method)).toEqual(['sendMessage']);
    const [id] = await redis.zrange(t.app.services.keys.stateIndex('triggered'), 0, -1);
    clock.advance(1_000);
    // a re-render with no change of state (the "started … ago" clock alone moved)
    await t.app.services.repo.apply({ sync: [{ inc: id! }] });
    await drain();
    expect(log.map((s) => s.method)).toEqual(['sendMessage']);
    // the slot is still free: the next card goes out at this same instant
    const tB = clock.now();
    await ingest({ title: 'disk 95%', severity: 'warning', status: 'firing', dedup_key: 'b' });
    await drain();
    expect(log.map((s) => [s.method, s.at])).toEqual([
      ['sendMessage', tB - 1_000],
      ['sendMessage', tB],
    ]);
    expect(await redis.zcard(t.app.services.keys.obWindow(String(GROUP)))).toBe(2);
    expect(await groupOutboxEmpty()).toEqual(EMPTY);
  });
});

describe('the end of a big mixed storm costs a bounded number of messages (issues 13 and 15)', () => {
  it('2,000 alerts of every severity in batches of 500, then all resolved: digest edits only, nothing left open, the queue drains', async () => {
    // the bench's storm (bench/scale.ts), smaller: escalation level 0 an hour out, no intake limit
    await t.stop();
    const yaml = testConfigYaml({ levels: '      - { after: 1h, notify: ["chat:ops"] }' }).replace(
      'rate_limit: { max: 1000, per: 1m }',
      'rate_limit: { max: 1000000, per: 1m }',
    );
    t = await startTestApp({
      apiRoot: kit.apiRoot,
      token: kit.token,
      config: parseConfig(yaml, {}),
      clock,
      polling: false,
    });
    prefixes.push(t.prefix);
    await t.app.services.outbox.stop();
    const N = 2_000;
    const alerts = (status: 'firing' | 'resolved') =>
      Array.from({ length: N }, (_, i) => ({
        title: `storm ${i}`,
        status,
        dedup_key: `storm-${i}`,
        severity: ['critical', 'error', 'warning', 'info'][i % 4],
      }));
    const drainFor = async (ms: number) => {
      const end = clock.now() + ms;
      while (clock.now() < end) {
        await drain({ settle: false });
        if ((await t.app.services.outbox.depth()) === 0) return;
        clock.advance(1_000);
      }
    };
    const firing = alerts('firing');
    for (let i = 0; i < N; i += 500) {
      await ingest(firing.slice(i, i + 500));
      await drain({ settle: false });
      clock.advance(1_000);
    }
    await drainFor(10 * 60_000);
    expect(await t.app.services.outbox.depth()).toBe(0);
    const digests = log.filter((s) => s.method === 'sendMessage' && s.text.includes('Alert storm'));
    expect(digests.length).toBeGreaterThan(0);
    expect(digests.length).toBeLessThanOrEqual(Math.ceil(N / 200) + 2);
    expect(await t.app.services.repo.countOpen()).toBe(N);

    clock.advance(1_000);
    const tResolved = clock.now();
    const resolved = alerts('resolved');
    for (let i = 0; i < N; i += 500) {
      await ingest(resolved.slice(i, i + 500));
      await drain({ settle: false });
      clock.advance(1_000);
    }
    // every incident resolved: the counters and the open index agree
    expect(await t.app.services.repo.countOpen()).toBe(0);
    expect((await t.app.services.repo.counts()).states).toMatchObject({
      triggered: 0,
      acknowledged: 0,
    });
    // the end of the storm: at most one edit per digest (and no new message), then an empty queue
    await drainFor(5 * 60_000);
    const after = log.filter((s) => s.at >= tResolved);
    expect(after.filter((s) => s.method === 'sendMessage').map((s) => s.text.slice(0, 60))).toEqual(
      [],
    );
    expect(after.length).toBeLessThanOrEqual(digests.length + 2);
    expect(await groupOutboxEmpty()).toEqual(EMPTY);
  }, 240_000);
});
