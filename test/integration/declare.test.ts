import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE, TOKENS } from '../helpers/config.js';
import { freshPrefix } from '../helpers/redis.js';
import type { TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
const prefix = freshPrefix('declare');
let t: TestApp;
beforeAll(async () => {
  ({ kit, t } = await build({ prefix }));
});
afterAll(async () => {
  await t?.stop(); // the app restarted by a test
});

const newest = (chat: number) => kit.botMessages(chat).at(-1)!;
async function nextBotMessage(
  chat: number,
  after: number,
  pred: (text: string) => boolean = () => true,
) {
  return kit.waitFor(() => kit.botMessages(chat).find((m) => m.messageId > after && pred(m.text)), {
    label: 'next bot message',
  });
}

describe('/declare', () => {
  it('guided conversation in a group survives a restart; only the starter counts; opens a routed incident', async () => {
    const alice = kit.user({
      id: PEOPLE.alice,
      name: 'alice',
      chatId: GROUP,
      chatType: 'supergroup',
    });
    const bob = kit.user({ id: PEOPLE.bob, name: 'bob', chatId: GROUP, chatType: 'supergroup' });
    let mark = kit.botMessages(GROUP).at(-1)?.messageId ?? 0;
    await alice.command('/declare');
    const askTitle = await nextBotMessage(GROUP, mark, (x) => x.includes('What is broken'));
    // another person's message does not answer alice's conversation
    await bob.say('not me', { replyTo: askTitle.messageId });
    await alice.say('Payments API returns 502', { replyTo: askTitle.messageId });
    const sev = await nextBotMessage(GROUP, askTitle.messageId, (x) => x.includes('How bad'));
    expect(sev.buttons.flat().map((b) => b.data)).toEqual([
      'dc:sev:P0',
      'dc:sev:P1',
      'dc:sev:P2',
      'dc:sev:P3',
    ]);
    expect(sev.buttons.flat()[0]!.text).toMatch(/outage/);

    // restart in the middle of the conversation
    await t.stop();
    t = await startTestApp({ apiRoot: kit.apiRoot, token: kit.token, prefix });

    // bob cannot press alice's severity button
    const n = kit.answers().length;
    await bob.press(sev.messageId, 'dc:sev:P0');
    expect(String((await kit.waitFor(() => kit.answers()[n])).text)).toMatch(/not yours/);
    await alice.press(sev.messageId, 'dc:sev:P1');
    const askService = await nextBotMessage(GROUP, sev.messageId, (x) =>
      x.includes('Which service'),
    );
    await alice.say('api-payments', { replyTo: askService.messageId });
    const confirm = await nextBotMessage(GROUP, askService.messageId, (x) =>
      x.includes('Open this incident?'),
    );
    expect(confirm.text).toContain('Payments API returns 502');
    expect(confirm.text).toContain('P1');
    mark = confirm.messageId;
    await alice.press(confirm.messageId, 'dc:ok:yes');
    const done = await nextBotMessage(GROUP, mark, (x) => x.includes('Opened'));
    const id = /INC-\d+/.exec(done.text)![0];
    const inc = await t.app.services.repo.get(id);
    expect(inc).toMatchObject({
      title: 'Payments API returns 502',
      severity: 'P1',
      labels: { service: 'api-payments', declared_by: 'alice' },
    });
    // exactly as an alert would: routed message with buttons, escalation started
    await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes(`<code>${id}</code>`) && m.buttons.length > 0,
    );
    expect((await t.app.services.repo.timeline(id)).map((e) => e.type)).toContain('triggered');
  });

  it('/cancel leaves the conversation; in a private chat it works the same', async () => {
    const dm = kit.user({ id: PEOPLE.bob, name: 'bob', chatId: PEOPLE.bob, chatType: 'private' });
    await dm.command('/declare');
    await kit.waitForMessage((m) => m.chatId === PEOPLE.bob && m.text.includes('What is broken'));
    await dm.command('/cancel');
    await kit.waitForMessage((m) => m.chatId === PEOPLE.bob && m.text.includes('cancelled'));
    const mark = newest(PEOPLE.bob).messageId;
    await dm.say('this is not a title anymore');
    // no conversation: nothing asked next
    await dm.command('/declare Cache cluster down');
    const sev = await nextBotMessage(PEOPLE.bob, mark, (x) => x.includes('How bad'));
    expect(sev).toBeTruthy();
  });

  it('while a conversation waits, the starter can still use the rest of the bot', async () => {
    const alice = kit.user({
      id: PEOPLE.alice,
      name: 'alice',
      chatId: GROUP,
      chatType: 'supergroup',
    });
    const r = await post(
      `${t.url}/hooks/generic`,
      { title: 'busy-while-declaring', status: 'firing', severity: 'error' },
      TOKENS.ci,
    );
    const id = (r.body.incidents as string[])[0]!;
    const inc = await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes(`<code>${id}</code>`) && m.buttons.length > 0,
    );
    let mark = newest(GROUP).messageId;
    await alice.command('/declare Search is slow');
    const sev = await nextBotMessage(GROUP, mark, (x) => x.includes('How bad'));
    // the conversation waits for a severity button; an incident button and a command still work
    await alice.press(inc.messageId, `i:ack:${id.slice(4)}`);
    await kit.waitFor(async () => (await t.app.services.repo.get(id))?.state === 'acknowledged', {
      label: 'acknowledged meanwhile',
    });
    mark = newest(GROUP).messageId;
    await alice.command('/status');
    await nextBotMessage(GROUP, mark, (x) => x.includes('opsbot status'));
    // and the conversation goes on where it was
    await alice.press(sev.messageId, 'dc:sev:P2');
    await nextBotMessage(GROUP, sev.messageId, (x) => x.includes('Which service'));
    await alice.command('/cancel');
    await nextBotMessage(GROUP, sev.messageId, (x) => x.includes('cancelled'));
  });

  it('viewers cannot declare', async () => {
    const v = kit.user({ id: PEOPLE.viewer, chatId: GROUP, chatType: 'supergroup' });
    await v.command('/declare');
    await kit.waitForMessage(
      (m) => m.chatId === GROUP && /needs the <b>responder<\/b>/.test(m.text),
    );
  });
});

describe('private chat pages', () => {
  it('an action in the DM updates the group message too', async () => {
    const r = await post(
      `${t.url}/hooks/generic`,
      { title: 'dm-sync', status: 'firing', severity: 'error' },
      TOKENS.ci,
    );
    const id = (r.body.incidents as string[])[0]!;
    const group = await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes(`<code>${id}</code>`),
    );
    // page root by DM through the escalation path (manual escalate → level 2 = person:root)
    await kit.user({ id: PEOPLE.root, chatId: PEOPLE.root, chatType: 'private' }).command('/start');
    await t.app.services.actions.escalate(id, 'alice');
    const dm = await kit.waitForMessage(
      (m) => m.chatId === PEOPLE.root && m.text.includes(`<code>${id}</code>`),
      { timeoutMs: 20_000 },
    );
    const seq = Number(id.slice(4));
    await kit
      .user({ id: PEOPLE.root, chatId: PEOPLE.root, chatType: 'private' })
      .press(dm.messageId, `i:ack:${seq}`);
    await kit.waitFor(() =>
      kit
        .botMessages(GROUP)
        .find((m) => m.messageId === group.messageId && /Acknowledged by <b>root/.test(m.text)),
    );
  });
});
