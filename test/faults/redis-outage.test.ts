import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { GROUP, TOKENS, testConfig } from '../helpers/config.js';
import { freePort } from '../helpers/process.js';
import { startTelegram, type TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let redisPort: number;
let redis: ChildProcess | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'opsbot-redis-'));

/** A Redis that fsyncs every write (AOF always), so a kill loses nothing it acknowledged. */
async function startRedis() {
  redis = spawn(
    'redis-server',
    [
      '--port',
      String(redisPort),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = new Redis({
      port: redisPort,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    r.on('error', () => {});
    try {
      await r.connect();
      await r.ping();
      r.disconnect();
      return;
    } catch {
      r.disconnect();
      if (Date.now() > deadline) throw new Error('redis did not start');
      await new Promise((res) => setTimeout(res, 50));
    }
  }
}

beforeAll(async () => {
  kit = await startTelegram();
  redisPort = await freePort();
  await startRedis();
});
afterAll(async () => {
  redis?.kill('SIGKILL');
  await kit?.stop();
});

describe('Redis stops and starts during intake', () => {
  let t: TestApp;
  it('answers 503 (never 202 for unstored data) while Redis is down, loses nothing it accepted, recovers by itself', async () => {
    const config = testConfig({
      extra:
        'outbox: { per_chat_interval: 10ms, group_per_minute: 100000, global_per_second: 1000, digest_threshold: 100000 }',
    });
    t = await startTestApp({
      apiRoot: kit.apiRoot,
      token: kit.token,
      config,
      polling: false,
      env: { redisUrl: `redis://127.0.0.1:${redisPort}` },
    });
    const accepted: { title: string; id: string }[] = [];
    const statuses = new Map<number, number>();
    let i = 0;
    const fireOne = async () => {
      const title = `outage ${i++}`;
      const r = await post(
        `${t.url}/hooks/generic`,
        { title, status: 'firing', dedup_key: title },
        TOKENS.ci,
      ).catch(() => ({ status: 0, body: {} as Record<string, unknown> }));
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 202) accepted.push({ title, id: (r.body.incidents as string[])[0]! });
      return r.status;
    };
    for (let k = 0; k < 20; k++) expect(await fireOne()).toBe(202);
    redis!.kill('SIGKILL');
    await new Promise((res) => redis!.once('exit', res));
    // while down: only 503s
    const down: number[] = [];
    for (let k = 0; k < 5; k++) down.push(await fireOne());
    expect(down.every((s) => s === 503)).toBe(true);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(503);
    await startRedis();
    // recovers by itself: accepted again
    await kit.waitFor(async () => (await fireOne()) === 202, {
      timeoutMs: 15_000,
      label: 'intake back',
    });
    for (let k = 0; k < 10; k++) await fireOne();
    // a Redis that answers but refuses the write (failover to a read-only replica, OOM, ACL):
    // here the store script is refused while the rate limiter's INCR still works
    const probe = new Redis({ port: redisPort });
    await probe.call('ACL', 'SETUSER', 'default', '-evalsha', '-eval');
    const refused: number[] = [];
    for (let k = 0; k < 5; k++) refused.push(await fireOne());
    expect(refused).toEqual([503, 503, 503, 503, 503]);
    await probe.call('ACL', 'SETUSER', 'default', '+@all');
    probe.disconnect();
    expect(await fireOne()).toBe(202);
    expect([...statuses.keys()].every((s) => s === 202 || s === 503)).toBe(true);
    // every accepted alert is stored, and its message is delivered
    for (const a of accepted) expect((await t.app.services.repo.get(a.id))?.title).toBe(a.title);
    await kit.waitFor(
      () =>
        accepted.every((a) => kit.botMessages(GROUP).some((m) => m.text.includes(`${a.title}<`))),
      { timeoutMs: 30_000, label: 'all delivered' },
    );
    await t.stop();
  });
});
