import { beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config.js';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE, STRANGER, TOKENS, testConfigYaml } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

const ANON_ADMIN = 1087968824; // Telegram's GroupAnonymousBot: anyone can post as it
const UNKNOWN_GROUP = -1009999999001;

let kit: TelegramKit;
let t: TestApp;

beforeAll(async () => {
  // a config that (wrongly) lists a Telegram service account as admin
  const yaml = testConfigYaml().replace(
    'people:\n',
    `people:\n  anon: { telegram_id: ${ANON_ADMIN}, roles: [admin] }\n`,
  );
  ({ kit, t } = await build({ storeTimeout: 3600, config: parseConfig(yaml, {}) }));
});

const inGroup = (id: number, name = `u${id}`) =>
  kit.user({ id, name, chatId: GROUP, chatType: 'supergroup' });
const dm = (id: number) => kit.user({ id, name: `u${id}`, chatId: id, chatType: 'private' });
const texts = (chat: number) => kit.botMessages(chat).map((m) => m.text);
/** The next bot message in `chat` after the first `n`. */
const nth = (chat: number, n: number) =>
  kit.waitFor(() => kit.botMessages(chat)[n], { label: `message ${n} in ${chat}` });

async function newIncident(title: string) {
  const r = await post(
    `${t.url}/hooks/generic`,
    { title, status: 'firing', severity: 'error', dedup_key: title },
    TOKENS.ci,
  );
  const id = (r.body.incidents as string[])[0]!;
  await kit.waitForMessage((m) => m.chatId === GROUP && m.text.includes(`<code>${id}</code>`), {
    label: `message of ${id}`,
  });
  return { id, seq: Number(id.slice(4)) };
}

/** A my_chat_member update: the bot's own membership in `chatId` changed to `status`. */
function botMembership(chatId: number, status: 'member' | 'administrator' | 'left') {
  return {
    my_chat_member: {
      chat: { id: chatId, type: 'supergroup', title: 'somewhere' },
      from: { id: STRANGER, is_bot: false, first_name: 'Eve' },
      date: Math.floor(Date.now() / 1000),
      old_chat_member: { status: 'left', user: { id: 666, is_bot: true, first_name: 'opsbot' } },
      new_chat_member: { status, user: { id: 666, is_bot: true, first_name: 'opsbot' } },
    },
  };
}

describe('access: private chats are for people listed in `people`', () => {
  it('a stranger in a private chat gets their id and "ask an admin to add you", nothing else', async () => {
    const { id, seq } = await newIncident('secret-outage-title');
    const n = kit.botMessages(STRANGER).length;
    const asks = [
      `/incident ${id}`,
      '/incidents',
      '/runbook disk-cleanup',
      '/runbooks',
      '/oncall',
      '/silences',
      '/stats 7d',
      '/status',
      '/help',
      '/lang ar',
    ];
    for (const [i, cmd] of asks.entries()) {
      await dm(STRANGER).command(cmd);
      const m = await nth(STRANGER, n + i);
      expect(m.text, cmd).toContain(`<code>${STRANGER}</code>`);
      expect(m.text, cmd).toContain('ask an admin to add you');
    }
    // plain text gets the same answer
    await dm(STRANGER).say('hello, what is going on?');
    expect((await nth(STRANGER, n + asks.length)).text).toContain('ask an admin to add you');
    // a Details press (forged or stale) is refused too, with no message
    const a = kit.answers().length;
    await dm(STRANGER).press(1, `i:det:${seq}`);
    const ans = await kit.waitFor(() => kit.answers()[a], { label: 'answer to the press' });
    expect(String(ans.text)).toMatch(/Ask an admin to add you \(your Telegram id: 4242\)/);
    await t.app.dispatcher.idle();
    const got = texts(STRANGER).slice(n);
    expect(got).toHaveLength(asks.length + 1);
    expect(got.join('\n')).not.toContain('secret-outage-title');
    expect(got.every((x) => x.includes('ask an admin to add you'))).toBe(true);
    expect(await t.app.services.redis.get(t.app.services.keys.chatLocale(STRANGER))).toBeNull();
  });

  it('/start and /whoami still answer a stranger, with an id that can be pasted', async () => {
    const n = kit.botMessages(STRANGER).length;
    await dm(STRANGER).command('/start');
    expect((await nth(STRANGER, n)).text).toContain(`<code>${STRANGER}</code>`);
    await dm(STRANGER).command('/whoami');
    const m = await nth(STRANGER, n + 1);
    expect(m.text).toContain(`Your Telegram id: <code>${STRANGER}</code>`);
    expect(m.text).toContain(`This chat's id: <code>${STRANGER}</code>`);
    expect(m.text).toContain('Your role: <b>viewer</b>');
    expect(m.text).toContain('not listed in <code>people</code>');
  });

  it('a listed viewer reads in a private chat', async () => {
    const { id } = await newIncident('viewer-may-read');
    const n = kit.botMessages(PEOPLE.viewer).length;
    await dm(PEOPLE.viewer).command(`/incident ${id}`);
    expect((await nth(PEOPLE.viewer, n)).text).toContain('viewer-may-read');
  });

  it('in a configured group anyone present reads, and /whoami names the configured person', async () => {
    const { id } = await newIncident('group-may-read');
    const n = kit.botMessages(GROUP).length;
    await inGroup(STRANGER).command(`/incident ${id}`);
    await kit.waitFor(() =>
      texts(GROUP)
        .slice(n)
        .find((x) => x.includes('group-may-read')),
    );
    const w = kit.botMessages(GROUP).length;
    await inGroup(PEOPLE.root).command('/whoami');
    const m = await nth(GROUP, w);
    expect(m.text).toContain(`Your Telegram id: <code>${PEOPLE.root}</code>`);
    expect(m.text).toContain(`This chat's id: <code>${GROUP}</code>`);
    expect(m.text).toContain('Your role: <b>admin</b>');
    expect(m.text).toContain('Configured as <b>root</b>');
  });
});

describe('access: groups that are not in `chats`', () => {
  it('added to an unknown group, the bot gives the chat id once and leaves', async () => {
    kit.injectUpdate(botMembership(UNKNOWN_GROUP, 'member'));
    const m = await nth(UNKNOWN_GROUP, 0);
    expect(m.text).toContain(`<code>${UNKNOWN_GROUP}</code>`);
    expect(m.text).toContain('not configured for opsbot');
    const left = await kit.waitFor(() =>
      kit.callsOf('leaveChat').find((c) => Number(c.body.chat_id) === UNKNOWN_GROUP),
    );
    expect(left.status).toBe(200);
    // leaving produces its own membership update: no second message
    kit.injectUpdate(botMembership(UNKNOWN_GROUP, 'left'));
    await kit.waitFor(() => kit.callsOf('getUpdates').length > 0);
    await t.app.dispatcher.idle();
    expect(kit.botMessages(UNKNOWN_GROUP)).toHaveLength(1);
  });

  it('added to a configured group, the bot stays quiet and stays', async () => {
    const leaves = kit.callsOf('leaveChat').length;
    const n = kit.botMessages(GROUP).length;
    const u = kit.injectUpdate(botMembership(GROUP, 'administrator'));
    await kit.waitFor(async () =>
      (await t.app.services.redis.exists(t.app.services.keys.updateSeen(u))) ? true : undefined,
    );
    await t.app.dispatcher.idle();
    expect(kit.callsOf('leaveChat')).toHaveLength(leaves);
    expect(kit.botMessages(GROUP)).toHaveLength(n);
  });

  it('a command or a button press from an unknown group gets the same answer and a leaveChat', async () => {
    const chat = UNKNOWN_GROUP - 1;
    const who = kit.user({ id: PEOPLE.root, chatId: chat, chatType: 'supergroup' });
    await who.command('/incidents');
    const m = await nth(chat, 0);
    expect(m.text).toContain(`<code>${chat}</code>`);
    await kit.waitFor(() => kit.callsOf('leaveChat').find((c) => Number(c.body.chat_id) === chat));
    const a = kit.answers().length;
    await who.press(1, 'i:det:1');
    const ans = await kit.waitFor(() => kit.answers()[a]);
    expect(String(ans.text)).toContain(`chat id ${chat}`);
    await t.app.dispatcher.idle();
    expect(kit.botMessages(chat)).toHaveLength(1);
    expect(kit.callsOf('leaveChat').filter((c) => Number(c.body.chat_id) === chat)).toHaveLength(2);
  });
});

describe('access: roles that cannot be borrowed', () => {
  it('a Telegram service account listed as admin is treated as an unlisted viewer', async () => {
    const { id } = await newIncident('anon-admin');
    const n = kit.botMessages(GROUP).length;
    await inGroup(ANON_ADMIN, 'GroupAnonymousBot').command(`/ack ${id}`);
    const m = await nth(GROUP, n);
    expect(m.text).toMatch(/needs the <b>responder<\/b> role \(you are viewer\)/);
    expect((await t.app.services.repo.get(id))?.state).toBe('triggered');
  });

  it('/assign INC-n constructor (or toString, __proto__) is an unknown person', async () => {
    const { id } = await newIncident('assign-proto');
    for (const name of ['constructor', 'toString', '__proto__']) {
      const n = kit.botMessages(GROUP).length;
      await inGroup(PEOPLE.alice).command(`/assign ${id} ${name}`);
      const m = await nth(GROUP, n);
      expect(m.text, name).toMatch(/Unknown person/i);
    }
    expect((await t.app.services.repo.get(id))?.assignee).toBeUndefined();
  });

  it('/lang in a group needs the responder role', async () => {
    const n = kit.botMessages(GROUP).length;
    await inGroup(PEOPLE.viewer).command('/lang ar');
    const m = await nth(GROUP, n);
    expect(m.text).toMatch(/needs the <b>responder<\/b> role/);
    expect(await t.app.services.redis.get(t.app.services.keys.chatLocale(GROUP))).toBeNull();
  });

  it('audit entries carry the Telegram id: a stranger named "root" cannot pass for root', async () => {
    const n0 = kit.botMessages(GROUP).length;
    await inGroup(PEOPLE.bob).command('/run disk-cleanup service=api');
    const req = await kit.waitFor(() =>
      kit
        .botMessages(GROUP)
        .slice(n0)
        .find((m) => m.text.includes('disk-cleanup') && m.buttons.length > 0),
    );
    // a stranger whose Telegram name is exactly "root" (no username) presses Approve
    const a = kit.answers().length;
    kit.injectUpdate({
      callback_query: {
        id: 'root-impostor',
        chat_instance: 'x',
        from: { id: STRANGER, is_bot: false, first_name: 'root' },
        message: {
          message_id: req.messageId,
          date: Math.floor(Date.now() / 1000),
          chat: { id: GROUP, type: 'supergroup', title: 'ops' },
        },
        data: req.buttons[0]![0]!.data!,
      },
    });
    expect(String((await kit.waitFor(() => kit.answers()[a])).text)).toMatch(/approver/);
    const rows = await t.app.services.audit.recent(10);
    expect(rows.find((r) => r.action === 'approval.refused')).toMatchObject({
      actor: 'root',
      actor_id: STRANGER,
    });
    expect(rows.find((r) => r.action === 'run.request')).toMatchObject({
      actor: 'bob',
      actor_id: PEOPLE.bob,
    });
    const n = kit.botMessages(GROUP).length;
    await inGroup(PEOPLE.root).command('/audit 5');
    const m = await kit.waitFor(() =>
      kit
        .botMessages(GROUP)
        .slice(n)
        .find((x) => x.text.includes('Audit log')),
    );
    expect(m.text).toContain(`approval.refused · root <code>[${STRANGER}]</code>`);
  });
});

describe('per-person command rate limit (default 20 a minute)', () => {
  let kit2: TelegramKit;
  let t2: TestApp;
  const clock = new FakeClock(Date.parse('2026-03-02T10:00:10Z'));

  beforeAll(async () => {
    const yaml = testConfigYaml().replace(/\nlimits:.*\n/, '\n'); // the default limit
    ({ kit: kit2, t: t2 } = await build({
      storeTimeout: 3600,
      config: parseConfig(yaml, {}),
      clock,
    }));
  });

  /** Waits until the bot has fetched every update the emulator holds and handled them all. */
  async function settled() {
    await kit2.waitFor(() =>
      (kit2.server.storage.userMessages as unknown as { isRead: boolean }[]).every((u) => u.isRead),
    );
    await t2.app.dispatcher.idle();
  }
  const whoamis = () =>
    kit2.botMessages(GROUP).filter((m) => m.text.includes('Your Telegram id')).length;
  const refusals = () =>
    kit2.botMessages(GROUP).filter((m) => m.text.includes('commands in a minute')).length;

  it('answers 20 commands a minute, then one polite refusal, then nothing until the next minute', async () => {
    const alice = kit2.user({ id: PEOPLE.alice, chatId: GROUP, chatType: 'supergroup' });
    for (let i = 0; i < 26; i++) await alice.command('/whoami');
    await kit2.waitFor(() => refusals() === 1 && whoamis() === 20, { label: '20 + 1 refusal' });
    await settled();
    expect(whoamis()).toBe(20);
    expect(refusals()).toBe(1);
    expect(
      kit2.botMessages(GROUP).find((m) => m.text.includes('commands in a minute'))!.text,
    ).toMatch(/more than 20 commands in a minute/);
    // someone else is not held back by alice
    await kit2.user({ id: PEOPLE.bob, chatId: GROUP, chatType: 'supergroup' }).command('/whoami');
    await kit2.waitFor(() => whoamis() === 21, { label: "bob's answer" });
    // the next minute of the injected clock opens a new window
    clock.advance(60_000);
    await alice.command('/whoami');
    await kit2.waitFor(() => whoamis() === 22, { label: 'alice again next minute' });
    await settled();
    expect(refusals()).toBe(1);
  });

  it('a new minute on the clock does not reset the count: 20 in any sliding minute', async () => {
    // clock now 10:01:10; carol sends 20 at 10:01:50, 10 s before the minute ends
    clock.advance(40_000);
    const carol = kit2.user({ id: PEOPLE.carol, chatId: GROUP, chatType: 'supergroup' });
    const before = whoamis();
    for (let i = 0; i < 20; i++) await carol.command('/whoami');
    await kit2.waitFor(() => whoamis() === before + 20, { label: "carol's 20" });
    // 10:02:10: a new fixed minute, but her 20 are only 20 s old: refused once, politely
    clock.advance(20_000);
    await carol.command('/whoami');
    await kit2.waitFor(() => refusals() === 2, { label: "carol's refusal" });
    await settled();
    expect(whoamis()).toBe(before + 20);
    // 10:02:50: her 20 are a minute old
    clock.advance(40_000);
    await carol.command('/whoami');
    await kit2.waitFor(() => whoamis() === before + 21, { label: 'carol again' });
    await settled();
    expect(refusals()).toBe(2);
  });
});
