import { Composer } from 'grammy';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../src/bot/commands.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
/** Every name any composer registered with `.command()` while the app was built. */
let registered: string[] = [];

beforeAll(async () => {
  const spy = vi.spyOn(Composer.prototype, 'command');
  try {
    ({ kit } = await build({ storeTimeout: 3600 }));
  } finally {
    registered = spy.mock.calls.flatMap(([cmd]) => [cmd].flat().map(String));
    spy.mockRestore();
  }
});

const REFUSED = /This needs the <b>(\w+)<\/b> role/;

/** Sends a command and returns the bot's messages in that chat up to its first answer. */
async function ask(from: number, chatId: number, text: string) {
  const before = kit.botMessages(chatId).length;
  const u = kit.user({
    id: from,
    name: `u${from}`,
    chatId,
    chatType: chatId < 0 ? 'supergroup' : 'private',
  });
  await u.command(text);
  await kit.waitFor(() => kit.botMessages(chatId).length > before, { label: `answer to ${text}` });
  return kit.botMessages(chatId)[before]!.text;
}

/** The commands /help lists, in order. */
async function helpOf(from: number, chatId: number): Promise<string[]> {
  const text = await ask(from, chatId, '/help');
  expect(text).toMatch(/Commands for your role/);
  return [...text.matchAll(/^\/(\w+) — /gm)].map((m) => m[1]!);
}

describe('the command table', () => {
  it('every command the bot registers is in the table, and every table entry is registered', () => {
    const table = COMMANDS.map((c) => c.name);
    expect(new Set(table).size).toBe(table.length);
    expect(registered.length).toBeGreaterThan(0);
    expect([...new Set(registered)].sort()).toEqual([...table].sort());
  });

  it('/help for a responder lists /unack, which a responder may use', async () => {
    const listed = await helpOf(PEOPLE.bob, GROUP);
    expect(listed).toContain('unack');
    expect(await ask(PEOPLE.bob, GROUP, '/unack')).not.toMatch(REFUSED);
  });

  // each listed command is answered without a role refusal; each one left out is refused
  // (except the private-only ones, which answer "in a private chat" in a group)
  const people = [
    ['viewer', PEOPLE.viewer],
    ['responder', PEOPLE.bob],
    ['admin', PEOPLE.root],
  ] as const;
  for (const [role, id] of people) {
    it(`/help in a group shows exactly the commands a ${role} may use there`, async () => {
      const listed = await helpOf(id, GROUP);
      expect(listed.length).toBeGreaterThan(0);
      for (const { name, privateOnly } of COMMANDS) {
        // /stats answers with a chart and a table; /declare opens a conversation: both need no check here
        if (listed.includes(name) && (name === 'stats' || name === 'declare')) continue;
        const answer = await ask(id, GROUP, `/${name}`);
        if (listed.includes(name)) expect(answer, `/${name}`).not.toMatch(REFUSED);
        else if (privateOnly) expect(answer, `/${name}`).toMatch(/private chat/);
        else expect(answer, `/${name}`).toMatch(REFUSED);
      }
    });
  }

  it('/help in a private chat adds the private-only commands', async () => {
    const group = await helpOf(PEOPLE.viewer, GROUP);
    const dm = await helpOf(PEOPLE.viewer, PEOPLE.viewer);
    expect(dm.filter((c) => !group.includes(c)).sort()).toEqual(['calendar', 'lang']);
  });
});
