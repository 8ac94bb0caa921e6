import { beforeAll, describe, expect, it } from 'vitest';
import { loadRunbooks } from '../../src/runbooks/loader.js';
import type { TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { parseConfig } from '../../src/config.js';
import { GROUP, PEOPLE, STRANGER, testConfigYaml, withChats } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let t: TestApp;

beforeAll(async () => {
  // two more configured groups, so the language and runbook tests have chats of their own
  const yaml = withChats(testConfigYaml(), { langtest: GROUP - 5, rbtest: GROUP - 9 });
  ({ kit, t } = await build({ storeTimeout: 3600, config: parseConfig(yaml, {}) }));
});

const last = (chatId: number) => kit.botMessages(chatId).at(-1);

describe('foundation: the bot answers in a group, state in Redis', () => {
  it('/start in a group gets a reply', async () => {
    const alice = kit.user({
      id: PEOPLE.alice,
      name: 'Alice',
      chatId: GROUP,
      chatType: 'supergroup',
    });
    const before = kit.botMessages(GROUP).length;
    await alice.command('/start');
    const m = await kit.waitForMessage((x) => x.chatId === GROUP && /opsbot/.test(x.text), {
      label: 'start reply',
    });
    expect(kit.botMessages(GROUP).length).toBeGreaterThan(before);
    expect(m.text).toContain('approver');
  });

  it('/start@TestNameBot works too', async () => {
    const bob = kit.user({ id: PEOPLE.bob, name: 'Bob', chatId: GROUP, chatType: 'supergroup' });
    const n = kit.botMessages(GROUP).length;
    await bob.command('/start@TestNameBot');
    await kit.waitFor(() => kit.botMessages(GROUP).length > n, { label: 'start@bot reply' });
    expect(last(GROUP)?.text).toMatch(/Hi bob/);
  });

  it('/status reports Redis and Bot API OK', async () => {
    const alice = kit.user({ id: PEOPLE.alice, chatId: GROUP, chatType: 'supergroup' });
    await alice.command('/status');
    const m = await kit.waitForMessage(
      (x) => x.chatId === GROUP && x.text.includes('opsbot status'),
    );
    expect(m.text).toMatch(/Redis: ✅ OK/);
    expect(m.text).toMatch(/Bot API: ✅ OK/);
    expect(m.text).toMatch(/Open incidents: <b>0<\/b>/);
  });

  it('/help for a viewer does not list responder commands', async () => {
    const stranger = kit.user({ id: STRANGER, name: 'Eve', chatId: GROUP, chatType: 'supergroup' });
    await stranger.command('/help');
    const m = await kit.waitForMessage(
      (x) => x.chatId === GROUP && x.text.includes('Commands for your role (viewer)'),
    );
    expect(m.text).toContain('/status');
    expect(m.text).not.toContain('/ack');
    expect(m.text).not.toContain('/run —');
    const root = kit.user({ id: PEOPLE.root, chatId: GROUP, chatType: 'supergroup' });
    await root.command('/help');
    const m2 = await kit.waitForMessage(
      (x) => x.chatId === GROUP && x.text.includes('Commands for your role (admin)'),
    );
    expect(m2.text).toContain('/ack');
    expect(m2.text).toContain('/audit');
  });

  it('/lang ar makes the next reply Arabic, stored in Redis', async () => {
    const chat = GROUP - 5;
    const alice = kit.user({ id: PEOPLE.alice, chatId: chat, chatType: 'supergroup' });
    await alice.command('/lang ar');
    await kit.waitForMessage((x) => x.chatId === chat);
    expect(await t.app.services.redis.get(t.app.services.keys.chatLocale(chat))).toBe('ar');
    await alice.command('/status');
    const m = await kit.waitFor(() =>
      kit
        .botMessages(chat)
        .find((x) => /[\u0600-\u06FF]/.test(x.text) && x !== kit.botMessages(chat)[0]),
    );
    expect(m.text).toMatch(/[\u0600-\u06FF]/);
  });

  it('a command refused for a missing role names the role', async () => {
    const stranger = kit.user({ id: STRANGER, chatId: GROUP, chatType: 'supergroup' });
    await stranger.command('/ack INC-1');
    const m = await kit.waitForMessage((x) => x.chatId === GROUP && x.text.includes('needs the'));
    expect(m.text).toMatch(/responder/);
  });

  it('/runbook renders every shipped runbook', async () => {
    const ids = [...loadRunbooks('commands').keys()];
    expect(ids.length).toBeGreaterThanOrEqual(16);
    const chat = GROUP - 9;
    const bob = kit.user({ id: PEOPLE.bob, chatId: chat, chatType: 'supergroup' });
    for (const id of ids) {
      await bob.command(`/runbook ${id}`);
      const m = await kit.waitForMessage(
        (x) => x.chatId === chat && x.text.includes(`<b>${id}</b>`) && x.text.includes('Steps'),
      );
      expect(m.text).toMatch(/<code>\/run /);
    }
  });
});
