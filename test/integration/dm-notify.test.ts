import { beforeAll, describe, expect, it } from 'vitest';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE, STRANGER, TOKENS } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

// private-chat notifications: a person who started the bot gets new incidents in their DM
let kit: TelegramKit;
let t: TestApp;

beforeAll(async () => {
  ({ kit, t } = await build({ storeTimeout: 3600 }));
});

const dm = (id: number) => kit.user({ id, name: `u${id}`, chatId: id, chatType: 'private' });
const reply = async (chat: number, n: number) =>
  kit.waitFor(() => kit.botMessages(chat)[n], { label: `reply ${n} in ${chat}` });

async function fire(title: string, severity: string) {
  const r = await post(
    `${t.url}/hooks/generic`,
    { title, status: 'firing', severity, dedup_key: title },
    TOKENS.ci,
  );
  expect(r.status).toBe(202);
  const id = (r.body.incidents as string[])[0]!;
  // the group always gets it; waiting for it means the DM job (queued alongside) was handled too
  await kit.waitForMessage((m) => m.chatId === GROUP && m.text.includes(`${title}<`));
  return id;
}
const dmsOf = (chat: number, title: string) =>
  kit.botMessages(chat).filter((m) => m.text.includes(`${title}<`));

describe('incidents in a private chat', () => {
  it('/start in private subscribes a known person; the DM has the buttons and acting there updates the group', async () => {
    const n = kit.botMessages(PEOPLE.bob).length;
    await dm(PEOPLE.bob).command('/start');
    expect((await reply(PEOPLE.bob, n)).text).toMatch(/every new incident of <b>P3<\/b>/);
    const id = await fire('dm-all', 'warning');
    const m = await kit.waitForMessage(
      (x) => x.chatId === PEOPLE.bob && x.text.includes('dm-all<') && x.buttons.length > 0,
      { label: 'DM with buttons' },
    );
    expect(m.buttons.flat().map((b) => b.data)).toContain(`i:ack:${id.slice(4)}`);
    // acknowledge from the DM: the group message is edited too
    const groupMsg = kit.botMessages(GROUP).find((x) => x.text.includes('dm-all<'))!;
    await dm(PEOPLE.bob).press(m.messageId, `i:ack:${id.slice(4)}`);
    await kit.waitFor(
      () =>
        kit
          .callsOf('editMessageText')
          .some(
            (c) =>
              Number(c.body.chat_id) === GROUP &&
              Number(c.body.message_id) === groupMsg.messageId &&
              /ACKNOWLEDGED/.test(String(c.body.text)) &&
              /bob/.test(String(c.body.text)),
          ),
      { label: 'group message edited' },
    );
    expect((await t.app.services.repo.get(id))?.state).toBe('acknowledged');
  });

  it('/notify P1 narrows it, /notify off stops it, a repeated /start keeps the choice', async () => {
    const n = kit.botMessages(PEOPLE.alice).length;
    await dm(PEOPLE.alice).command('/start');
    await reply(PEOPLE.alice, n);
    await dm(PEOPLE.alice).command('/notify P1');
    expect((await reply(PEOPLE.alice, n + 1)).text).toMatch(/<b>P1<\/b> or worse/);
    await fire('narrow-p2', 'warning'); // P2: not sent
    await fire('narrow-p1', 'error'); // P1: sent
    await kit.waitFor(() => dmsOf(PEOPLE.alice, 'narrow-p1').length > 0, { label: 'P1 DM' });
    await fire('narrow-p2b', 'warning'); // queued after the P1 one in the same DM queue: would be there by now
    await kit.waitFor(() => dmsOf(PEOPLE.bob, 'narrow-p2b').length > 0, { label: 'bob gets P2' });
    expect(dmsOf(PEOPLE.alice, 'narrow-p2')).toHaveLength(0);
    expect(dmsOf(PEOPLE.alice, 'narrow-p2b')).toHaveLength(0);

    await dm(PEOPLE.alice).command('/start');
    expect((await reply(PEOPLE.alice, n + 3)).text).toMatch(/<b>P1<\/b> or worse/);
    await dm(PEOPLE.alice).command('/notify off');
    expect((await reply(PEOPLE.alice, n + 4)).text).toMatch(/off/);
    await fire('off-p0', 'critical');
    await kit.waitFor(() => dmsOf(PEOPLE.bob, 'off-p0').length > 0, { label: 'bob gets P0' });
    expect(dmsOf(PEOPLE.alice, 'off-p0')).toHaveLength(0);
    await dm(PEOPLE.alice).command('/notify sometimes');
    expect((await reply(PEOPLE.alice, n + 5)).text).toMatch(/Usage: \/notify/);
  });

  it('strangers get nothing; /notify in a group points to the private chat', async () => {
    const n = kit.botMessages(STRANGER).length;
    await dm(STRANGER).command('/start');
    expect((await reply(STRANGER, n)).text).toMatch(/not in this team's people list/);
    await dm(STRANGER).command('/notify on');
    expect((await reply(STRANGER, n + 1)).text).toMatch(/ask an admin to add you/);
    await fire('stranger', 'critical');
    await kit.waitFor(() => dmsOf(PEOPLE.bob, 'stranger').length > 0, { label: 'bob gets it' });
    expect(dmsOf(STRANGER, 'stranger')).toHaveLength(0);
    const g = kit.botMessages(GROUP).length;
    await kit.user({ id: PEOPLE.bob, chatId: GROUP, chatType: 'supergroup' }).command('/notify on');
    expect((await reply(GROUP, g)).text).toMatch(/private chat/);
  });
});
