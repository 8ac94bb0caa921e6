import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PEOPLE, TOKENS, testConfigYaml } from '../helpers/config.js';
import { botEnv, freePort, spawnBot, startScript, type BotProcess } from '../helpers/process.js';
import { REDIS_URL, dropPrefix, freshPrefix } from '../helpers/redis.js';
import { seedIncidents } from '../helpers/seed.js';
import { startTelegram, type TelegramKit } from '../helpers/telegram.js';

const COUNT = Number(process.env.HISTORY_INCIDENTS ?? 50_000);
const prefix = freshPrefix('history');
const redis = new Redis(REDIS_URL);
let kit: TelegramKit;
let bot: BotProcess | undefined;
let port = 0;

/**
 * 50,000 incidents over the last 87 days through the real intake script (so counters, indexes and
 * aggregates are what the scripts keep), 90% of them resolved, a third of those acknowledged first.
 */
const seed = () => seedIncidents(redis, prefix, COUNT, { days: 87 });

beforeAll(async () => {
  await seed();
  kit = await startTelegram();
  port = await freePort();
  // `npm start`'s environment and heap flags on the TypeScript entry point
  const start = startScript();
  const heapFlags = start.args.filter((a) => a.startsWith('--'));
  bot = spawnBot(
    { ...botEnv({ kit, prefix, port, yaml: testConfigYaml() }), ...start.env },
    { nodeArgs: heapFlags },
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break;
    } catch {
      /* starting */
    }
    if (Date.now() > deadline) throw new Error(`bot did not start: ${bot.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 600_000);

afterAll(async () => {
  if (bot && bot.child.exitCode === null) {
    bot.kill('SIGTERM');
    await bot.exited;
  }
  await kit?.stop();
  await dropPrefix(prefix);
  redis.disconnect();
}, 120_000);

function alive() {
  expect(bot!.child.exitCode, `bot died: ${bot!.stderr().slice(-2000)}`).toBeNull();
}

describe(`${COUNT} incidents in Redis, under npm start's heap flags`, () => {
  const api = (q: string) =>
    fetch(`http://127.0.0.1:${port}/api/v1/incidents${q}`, {
      headers: { authorization: `Bearer ${TOKENS.api}` },
    });

  it('the read API answers one page for no filter and every state, and a cursor walk goes on', async () => {
    for (const q of [
      '',
      '?limit=1000',
      '?state=all',
      '?state=open',
      '?state=triggered',
      '?state=acknowledged',
      '?state=resolved&limit=1000',
    ]) {
      const res = await api(q);
      expect(res.status, q).toBe(200);
      const body = (await res.json()) as {
        incidents: { id: string }[];
        next_cursor: string | null;
      };
      expect(body.incidents.length, q).toBeGreaterThan(0);
      expect(body.incidents.length, q).toBeLessThanOrEqual(q.includes('1000') ? 1000 : 100);
      alive();
    }
    let cursor: string | null = null;
    for (let i = 0; i < 5; i++) {
      const body = (await (
        await api(`?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)
      ).json()) as {
        incidents: unknown[];
        next_cursor: string | null;
      };
      expect(body.incidents).toHaveLength(1000);
      cursor = body.next_cursor;
    }
    alive();
  });

  it('/metrics reads counters', async () => {
    const m = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    // open: every tenth incident (P0 and P2 alternate among them)
    expect(m).toMatch(new RegExp(`opsbot_incidents_open\\{severity="P0"\\} ${COUNT / 20}\\n`));
    alive();
  });

  it('/status, /incidents and /stats 7d/30d/90d answer; a longer window is refused', async () => {
    const open = (COUNT / 10).toLocaleString('en-US');
    const u = kit.user({ id: PEOPLE.alice, name: 'alice', chatId: GROUP, chatType: 'supergroup' });
    await u.command('/status');
    await kit.waitForMessage(
      (x) => x.chatId === GROUP && x.text.includes('opsbot status') && x.text.includes(open),
      {
        timeoutMs: 30_000,
        label: '/status',
      },
    );
    await u.command('/incidents');
    await kit.waitForMessage(
      (x) => x.chatId === GROUP && x.text.includes(`Open incidents: ${open}`),
      { timeoutMs: 30_000, label: '/incidents' },
    );
    for (const span of ['7d', '30d', '90d']) {
      await u.command(`/stats ${span}`);
      await kit.waitForMessage(
        (x) =>
          x.chatId === GROUP &&
          x.text.includes(`Response statistics, last ${span}`) &&
          x.text.includes('<pre>'),
        { timeoutMs: 60_000, label: `/stats ${span}` },
      );
      alive();
    }
    await u.command('/stats 365d');
    await kit.waitForMessage((x) => x.chatId === GROUP && x.text.includes('at most 90 days'), {
      timeoutMs: 30_000,
      label: '/stats 365d',
    });
    alive();
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });
});
