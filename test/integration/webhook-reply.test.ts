import { beforeAll, describe, expect, it } from 'vitest';
import { openIncident, post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let t: TestApp;
const secret = 'reply-secret-123';

beforeAll(async () => {
  ({ kit, t } = await build({
    storeTimeout: 3600,
    polling: false,
    env: { webhookUrl: 'http://127.0.0.1:1/telegram/webhook', webhookSecret: secret },
  }));
});

const newIncident = (title: string) => openIncident(t, kit, title);

let updateId = 7_000_000;
/** A press delivered as Telegram delivers it in webhook mode; the webhook's status and body. */
async function press(from: number, messageId: number, data: string, queryId: string) {
  const update = {
    update_id: updateId++,
    callback_query: {
      id: queryId,
      chat_instance: 'ci',
      data,
      from: { id: from, is_bot: false, first_name: `u${from}` },
      message: {
        message_id: messageId,
        date: 1,
        chat: { id: GROUP, type: 'supergroup', title: 'ops' },
      },
    },
  };
  return post(`${t.url}/telegram/webhook`, update, undefined, {
    'x-telegram-bot-api-secret-token': secret,
  });
}

const state = async (id: string) => (await t.app.services.repo.get(id))?.state;
const answeredByCall = (queryId: string) =>
  kit.callsOf('answerCallbackQuery').filter((c) => c.body.callback_query_id === queryId);

describe('webhook mode: a press is answered in the webhook reply', () => {
  it('Acknowledge: the answer rides back in the response, the card is edited in place', async () => {
    const { id, seq, msg } = await newIncident('reply-ack');
    const r = await press(PEOPLE.alice, msg.messageId, `i:ack:${seq}`, 'q-ack');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ method: 'answerCallbackQuery', callback_query_id: 'q-ack' });
    expect(String(r.body.text)).toMatch(/acknowledged/);
    const edited = await kit.waitFor(() =>
      kit
        .botMessages(GROUP)
        .find((m) => m.messageId === msg.messageId && /Acknowledged by/.test(m.text)),
    );
    expect(edited.text).toMatch(/alice/);
    expect(edited.buttons.flat().map((b) => b.data)).toContain(`i:unack:${seq}`);
    expect(await state(id)).toBe('acknowledged');
    // answered once, in the reply: no answerCallbackQuery call of its own
    expect(answeredByCall('q-ack')).toEqual([]);
  });

  it('a second press is told who was first, in its reply', async () => {
    const { seq, msg } = await newIncident('reply-second');
    await press(PEOPLE.alice, msg.messageId, `i:ack:${seq}`, 'q-first');
    const r = await press(PEOPLE.bob, msg.messageId, `i:ack:${seq}`, 'q-second');
    expect(r.body).toMatchObject({ method: 'answerCallbackQuery', callback_query_id: 'q-second' });
    expect(String(r.body.text)).toMatch(/alice/);
  });

  it('a viewer is refused naming the role, in the reply, and nothing changes', async () => {
    const { id, seq, msg } = await newIncident('reply-viewer');
    const r = await press(PEOPLE.viewer, msg.messageId, `i:ack:${seq}`, 'q-viewer');
    expect(r.body).toMatchObject({
      method: 'answerCallbackQuery',
      callback_query_id: 'q-viewer',
      show_alert: true,
    });
    expect(String(r.body.text)).toMatch(/responder/);
    expect(await state(id)).toBe('triggered');
  });

  it('a redelivered press is handled once: the redelivery gets a plain 200', async () => {
    const { seq, msg } = await newIncident('reply-redelivery');
    const update = updateId;
    const first = await press(PEOPLE.alice, msg.messageId, `i:ack:${seq}`, 'q-once');
    updateId = update; // the same update_id again, as a retried delivery
    const again = await press(PEOPLE.alice, msg.messageId, `i:ack:${seq}`, 'q-once');
    updateId = update + 1;
    expect(first.body).toMatchObject({ method: 'answerCallbackQuery' });
    expect(again).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('a command is answered by an ordinary call, and its webhook by a plain 200', async () => {
    const r = await post(
      `${t.url}/telegram/webhook`,
      {
        update_id: updateId++,
        message: {
          message_id: 50,
          date: 1,
          chat: { id: GROUP, type: 'supergroup', title: 'ops' },
          from: { id: PEOPLE.alice, is_bot: false, first_name: 'alice' },
          text: '/status',
          entities: [{ offset: 0, length: 7, type: 'bot_command' }],
        },
      },
      undefined,
      { 'x-telegram-bot-api-secret-token': secret },
    );
    expect(r).toMatchObject({ status: 200, body: { ok: true } });
    await kit.waitForMessage((m) => m.chatId === GROUP && /opsbot status/.test(m.text));
  });
});
