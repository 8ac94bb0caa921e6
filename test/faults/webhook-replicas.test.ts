import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { PEOPLE } from '../helpers/config.js';
import { dropPrefix, freshPrefix } from '../helpers/redis.js';
import { startTelegram, type TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
const apps: TestApp[] = [];
const prefix = freshPrefix('webhook');
const secret = 'replica-secret-1';
beforeAll(async () => {
  kit = await startTelegram();
  for (let i = 0; i < 3; i++) {
    apps.push(
      await startTestApp({
        apiRoot: kit.apiRoot,
        token: kit.token,
        prefix,
        polling: false,
        env: { webhookUrl: 'http://127.0.0.1:1/telegram/webhook', webhookSecret: secret },
      }),
    );
  }
});
afterAll(async () => {
  for (const a of apps) await a.stop();
  await kit?.stop();
  await dropPrefix(prefix);
});

describe('three replicas in webhook mode behind one update source', () => {
  it('each update is handled once even when the load balancer delivers it twice', async () => {
    const N = 60;
    const deliveries: Promise<Response>[] = [];
    for (let i = 0; i < N; i++) {
      const chat = -2000 - i;
      const update = {
        update_id: 5_000_000 + i,
        message: {
          message_id: i + 1,
          date: 1,
          chat: { id: chat, type: 'supergroup', title: 'x' },
          from: { id: PEOPLE.alice, is_bot: false, first_name: 'alice' },
          text: '/status',
          entities: [{ offset: 0, length: 7, type: 'bot_command' }],
        },
      };
      // delivered to two different replicas (a retry, or a confused balancer)
      for (const a of [apps[i % 3]!, apps[(i + 1) % 3]!]) {
        deliveries.push(
          fetch(`${a.url}/telegram/webhook`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-telegram-bot-api-secret-token': secret,
            },
            body: JSON.stringify(update),
          }),
        );
      }
    }
    const res = await Promise.all(deliveries);
    expect(res.every((r) => r.status === 200)).toBe(true);
    await kit.waitFor(
      () =>
        kit.callsOf('sendMessage').filter((c) => String(c.body.text).includes('opsbot status'))
          .length >= N,
      { timeoutMs: 20_000 },
    );
    const replies = kit
      .callsOf('sendMessage')
      .filter((c) => String(c.body.text).includes('opsbot status'));
    const perChat = new Map<number, number>();
    for (const c of replies)
      perChat.set(Number(c.body.chat_id), (perChat.get(Number(c.body.chat_id)) ?? 0) + 1);
    expect(perChat.size).toBe(N);
    expect([...perChat.values()].every((n) => n === 1)).toBe(true);
  });
});
