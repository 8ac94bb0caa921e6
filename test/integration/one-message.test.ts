import { FakeClock } from '../../src/clock.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE, TOKENS, testConfig } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

// a person both subscribed to new incidents (/start in private) and paged by the first escalation
// level gets one message per incident: the page, not a DM card a minute earlier as well
let kit: TelegramKit;
let t: TestApp;
const clock = new FakeClock();

beforeAll(async () => {
  ({ kit, t } = await build({
    storeTimeout: 3600,
    clock,
    config: testConfig({
      levels: `      - { after: 1m, notify: ["chat:ops", "person:carol"] }`,
    }),
  }));
});

const dm = (id: number) => kit.user({ id, name: `u${id}`, chatId: id, chatType: 'private' });
const about = (chat: number, title: string) =>
  kit.botMessages(chat).filter((m) => m.text.includes(`${title}<`));

async function fire(title: string) {
  const r = await post(
    `${t.url}/hooks/generic`,
    { title, status: 'firing', severity: 'warning', dedup_key: title },
    TOKENS.ci,
  );
  expect(r.status).toBe(202);
}

describe('one message per person', () => {
  it('subscribed and paged at the first level: one message; subscribed only: the DM', async () => {
    for (const who of [PEOPLE.carol, PEOPLE.bob]) {
      const n = kit.botMessages(who).length;
      await dm(who).command('/start');
      await kit.waitFor(() => kit.botMessages(who)[n], { label: `/start reply ${who}` });
    }
    await fire('one-msg-a');
    await kit.waitFor(() => about(GROUP, 'one-msg-a').length > 0, { label: 'group card' });
    await kit.waitFor(() => about(PEOPLE.bob, 'one-msg-a').length > 0, { label: 'bob DM' });
    // what creation queued is out (bob's DM came with carol's, if any); then the first level pages carol
    clock.advance(61_000);
    await kit.waitFor(
      () => about(PEOPLE.carol, 'one-msg-a').some((m) => m.text.includes('You are paged')),
      { label: 'carol paged' },
    );
    const carol = about(PEOPLE.carol, 'one-msg-a');
    expect(carol).toHaveLength(1);
    expect(about(PEOPLE.bob, 'one-msg-a')).toHaveLength(1);
  });
});
