import { Redis } from 'ioredis';
import type { Update } from 'grammy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIncident, post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE } from '../helpers/config.js';
import { REDIS_URL } from '../helpers/redis.js';
import type { TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let t: TestApp;
let prefix: string;
const secret = 'read-ahead-secret-1';

beforeAll(async () => {
  ({ kit, t, prefix } = await build({
    storeTimeout: 3600,
    polling: false,
    env: { webhookUrl: 'http://127.0.0.1:1/telegram/webhook', webhookSecret: secret },
  }));
});

let updateId = 8_000_000;
const pressUpdate = (data: string, messageId = 1): Update => ({
  update_id: updateId++,
  callback_query: {
    id: `q${updateId}`,
    chat_instance: 'ci',
    data,
    from: { id: PEOPLE.alice, is_bot: false, first_name: 'alice' },
    message: {
      message_id: messageId,
      date: 1,
      chat: { id: GROUP, type: 'supergroup', title: 'ops' },
    },
  },
});

describe('a button press reads its incident together with its claim', () => {
  let monitor: Redis | undefined;
  afterAll(() => monitor?.disconnect());

  it('Acknowledge: the incident is read once, alongside the claim, before its atomic change', async () => {
    const { id, seq, msg } = await openIncident(t, kit, 'read-ahead-ack');
    const u = pressUpdate(`i:ack:${seq}`, msg.messageId);
    // the press's own commands, as Redis runs them (not those inside scripts, nor other work of
    // the bot on this prefix, such as its outbox polling)
    const seen: string[] = [];
    monitor = await new Redis(REDIS_URL).monitor();
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source === 'lua') return;
      const cmd = (args[0] ?? '').toLowerCase();
      const names = (x: string) => args.slice(1).some((a) => a.startsWith(prefix) && a.includes(x));
      if (cmd === 'hgetall' && names(`{${id}}`)) seen.push('read');
      else if (cmd === 'set' && names(`:${u.update_id}`)) seen.push('claim');
      else if (cmd === 'evalsha' && args.some((a) => a.includes(`{${id}}`))) seen.push('change');
    });
    const r = await post(`${t.url}/telegram/webhook`, u, undefined, {
      'x-telegram-bot-api-secret-token': secret,
    });
    expect(r.body).toMatchObject({ method: 'answerCallbackQuery' });
    expect((await t.app.services.repo.get(id))?.state).toBe('acknowledged');
    await kit.waitFor(() => seen.includes('change'));
    monitor.disconnect();
    monitor = undefined;
    // read first (it was issued before the claim), then the claim, then the change: no read between
    expect(seen.slice(0, 3)).toEqual(['read', 'claim', 'change']);
  });

  it('is handed once, to the update it was read for, and only for incident actions that read', async () => {
    const { pressReads } = t.app.services;
    const { id, seq } = await openIncident(t, kit, 'read-ahead-once');
    const u = pressUpdate(`i:res:${seq}`);
    pressReads.start(u);
    expect(pressReads.take(pressUpdate(`i:res:${seq}`), id)).toBeUndefined(); // another update
    expect(pressReads.take(u, 'INC-999999')).toBeUndefined(); // another incident: dropped
    pressReads.start(u);
    expect((await pressReads.take(u, id))?.id).toBe(id);
    expect(pressReads.take(u, id)).toBeUndefined(); // once
    for (const data of [`i:det:${seq}`, `i:sil:${seq}`, 'rb:x', 'garbage']) {
      const other = pressUpdate(data);
      pressReads.start(other);
      expect(pressReads.take(other, id)).toBeUndefined();
    }
  });

  it('an incident changed after it was read ahead: the action reads again and tells who was first', async () => {
    const { actions, pressReads, repo } = t.app.services;
    const { id, seq } = await openIncident(t, kit, 'read-ahead-stale');
    const u = pressUpdate(`i:ack:${seq}`);
    pressReads.start(u);
    const stale = (await pressReads.take(u, id))!;
    expect(stale.state).toBe('triggered');
    // bob acknowledges between alice's read-ahead and her change
    expect((await actions.acknowledge(id, 'bob')).ok).toBe(true);
    const r = await actions.acknowledge(id, 'alice', { seen: stale });
    expect(r).toMatchObject({ ok: false, reason: 'already', inc: { ackBy: 'bob' } });
    const now = await repo.get(id);
    expect(now).toMatchObject({ state: 'acknowledged', ackBy: 'bob' });
    const acks = (await repo.timeline(id)).filter((e) => e.type === 'acknowledged');
    expect(acks.map((e) => e.actor)).toEqual(['bob']);
  });
});
