import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfigYaml } from '../helpers/config.js';
import { botEnv, freePort, spawnBot, writeConfig } from '../helpers/process.js';
import { dropPrefix, freshPrefix } from '../helpers/redis.js';
import { startTelegram, type TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
const prefixes: string[] = [];
beforeAll(async () => {
  kit = await startTelegram();
});
afterAll(async () => {
  await kit?.stop();
  for (const p of prefixes) await dropPrefix(p);
});

async function waitHttp(
  url: string,
  want: (s: number) => boolean,
  timeoutMs = 20_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      if (want(r.status)) return r.status;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${url}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function baseEnv(port: number, extra: Record<string, string> = {}) {
  const prefix = freshPrefix('proc');
  prefixes.push(prefix);
  return botEnv({
    kit,
    prefix,
    port,
    yaml: testConfigYaml(),
    extra: { LOG_LEVEL: 'info', ...extra },
  });
}

describe('process', () => {
  it('a config with a wrong duration exits 78 naming the path', async () => {
    const bad = testConfigYaml({
      levels: `      - { after: 0s, notify: ["chat:ops"] }\n      - { after: 10 minutes, notify: ["person:root"] }`,
    });
    const p = spawnBot({ ...baseEnv(await freePort()), OPSBOT_CONFIG: writeConfig(bad) });
    expect(await p.exited).toBe(78);
    expect(p.stderr()).toContain(
      'escalation_policies.critical.levels[1].after: expected a duration like 30s, 5m, 2h',
    );
  });

  it('a missing environment variable exits 78 naming it', async () => {
    const p = spawnBot({
      ...baseEnv(await freePort()),
      OPSBOT_CONFIG: writeConfig(testConfigYaml().replace('prom-token-123456', '${PROM_TOKEN}')),
    });
    expect(await p.exited).toBe(78);
    expect(p.stderr()).toContain(
      'integrations.prometheus.token: environment variable PROM_TOKEN is not set',
    );
  });

  it('WEBHOOK_URL without TELEGRAM_WEBHOOK_SECRET exits 78 with one clear line', async () => {
    const port = await freePort();
    const p = spawnBot(baseEnv(port, { WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/webhook` }));
    expect(await p.exited).toBe(78);
    expect(p.stderr()).toContain(
      'opsbot: config error: TELEGRAM_WEBHOOK_SECRET: required when WEBHOOK_URL is set',
    );
  });

  it('a token shorter than 16 characters exits 78 naming its path', async () => {
    const p = spawnBot({
      ...baseEnv(await freePort()),
      OPSBOT_CONFIG: writeConfig(testConfigYaml().replace('prom-token-123456', 'short-token')),
    });
    expect(await p.exited).toBe(78);
    expect(p.stderr()).toContain('integrations.prometheus.token: must be at least 16 characters');
  });

  it('webhook mode: a wrong secret gets 401, the right one 200; SIGTERM exits 0', async () => {
    const port = await freePort();
    const p = spawnBot(
      baseEnv(port, {
        WEBHOOK_URL: `http://127.0.0.1:${port}/telegram/webhook`,
        TELEGRAM_WEBHOOK_SECRET: 'hook-secret-1234567',
      }),
    );
    try {
      await waitHttp(`http://127.0.0.1:${port}/healthz`, (s) => s === 200);
      const update = {
        update_id: 777001,
        message: {
          message_id: 1,
          date: 1,
          chat: { id: -1001000000001, type: 'supergroup' },
          from: { id: 1001, is_bot: false, first_name: 'a' },
          text: '/start',
          entities: [{ offset: 0, length: 6, type: 'bot_command' }],
        },
      };
      const post = (secret?: string) =>
        fetch(`http://127.0.0.1:${port}/telegram/webhook`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(secret ? { 'x-telegram-bot-api-secret-token': secret } : {}),
          },
          body: JSON.stringify(update),
        });
      expect((await post()).status).toBe(401);
      expect((await post('wrong')).status).toBe(401);
      expect((await post('hook-secret-1234567')).status).toBe(200);
      await kit.waitForMessage((m) => m.chatId === -1001000000001 && /Hi alice/.test(m.text));
      expect(kit.callsOf('setWebhook').length).toBeGreaterThan(0);
    } finally {
      p.kill('SIGTERM');
    }
    expect(await p.exited).toBe(0);
    // a clean start prints no warning (fastify's disableRequestLogging deprecation was one)
    expect(p.stderr()).not.toMatch(/Warning|FSTDEP/);
  });

  it('/readyz is 503 while Redis is unreachable and 200 again after it returns; the process stays alive', async () => {
    const redisPort = await freePort();
    const redis = () =>
      spawn('redis-server', ['--port', String(redisPort), '--save', '', '--appendonly', 'no'], {
        stdio: 'ignore',
      });
    let r = redis();
    const port = await freePort();
    const p = spawnBot(baseEnv(port, { REDIS_URL: `redis://127.0.0.1:${redisPort}` }));
    try {
      await waitHttp(`http://127.0.0.1:${port}/readyz`, (s) => s === 200);
      r.kill('SIGKILL');
      await waitHttp(`http://127.0.0.1:${port}/readyz`, (s) => s === 503);
      r = redis();
      await waitHttp(`http://127.0.0.1:${port}/readyz`, (s) => s === 200);
      expect(p.child.exitCode).toBeNull();
    } finally {
      p.kill('SIGTERM');
      r.kill('SIGKILL');
    }
    expect(await p.exited).toBe(0);
  });
});
