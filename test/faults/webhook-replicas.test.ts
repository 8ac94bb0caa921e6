import { beforeAll, describe, expect, it } from 'vitest';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { parseConfig } from '../../src/config.js';
import { LEADS, PEOPLE, TOKENS, testConfigYaml, withChats } from '../helpers/config.js';
import { freshPrefix } from '../helpers/redis.js';
import type { TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let apps: TestApp[];
const prefix = freshPrefix('webhook');
const secret = 'replica-secret-1';
beforeAll(async () => {
  ({ kit, apps } = await build({
    replicas: 3,
    prefix,
    polling: false,
    config: parseConfig(
      withChats(
        testConfigYaml({
          levels: `      - { after: 0s, notify: ["chat:ops"] }
      - { after: 1s, notify: ["chat:leads"] }`,
          extra:
            'outbox: { per_chat_interval: 1ms, group_per_minute: 100000, global_per_second: 100000, digest_threshold: 100000 }',
        }),
        // the groups the update test talks in (the bot answers only in configured chats)
        Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`r${i}`, -2000 - i])),
      ),
      {},
    ),
    env: { webhookUrl: 'http://127.0.0.1:1/telegram/webhook', webhookSecret: secret },
  }));
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

  it('each timer fires once: incidents arriving at different replicas escalate once per level', async () => {
    const N = 30;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const r = await post(
        `${apps[i % 3]!.url}/hooks/generic`,
        { title: `replica-esc ${i}`, status: 'firing', severity: 'critical', dedup_key: `re-${i}` },
        TOKENS.ci,
      );
      expect(r.status).toBe(202);
      ids.push((r.body.incidents as string[])[0]!);
    }
    const leads = () => kit.okCalls('sendMessage', LEADS, 'replica-esc');
    await kit.waitFor(() => leads().length >= N, {
      timeoutMs: 20_000,
      label: 'level 2 everywhere',
    });
    // every replica's timer loop saw every timer: each level still fired once per incident
    const repo = apps[0]!.app.services.repo;
    for (const id of ids) {
      const levels = (await repo.timeline(id))
        .filter((e) => e.type === 'escalated')
        .map((e) => e.data?.level);
      expect(levels).toEqual([0, 1]);
    }
    const perIncident = new Map<string, number>();
    for (const c of leads()) {
      const id = /<code>(INC-\d+)<\/code>/.exec(String(c.body.text))![1]!;
      perIncident.set(id, (perIncident.get(id) ?? 0) + 1);
    }
    expect(perIncident.size).toBe(N);
    expect([...perIncident.values()].every((n) => n === 1)).toBe(true);
  });
});
