import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config.js';
import { readRuntimeOverrides } from '../../src/store/overrides.js';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE, TOKENS, testConfigYaml } from '../helpers/config.js';
import type { BotMessage, TelegramKit } from '../helpers/telegram.js';

// primary: alice (Jan 5), bob (Jan 12), carol (Jan 19), alice (Jan 26), bob (Feb 2) ... handover
// 09:00 UTC = 10:00 Berlin; level 0 pages whoever is on call in primary
const config = parseConfig(
  testConfigYaml({ levels: `      - { after: 0s, notify: ["schedule:primary"] }` }).replace(
    'rotation: { start: "2026-01-05T09:00:00Z", shift: 7d, members: [alice, bob] }',
    'rotation: { start: "2026-01-05T09:00:00Z", shift: 7d, members: [alice, bob, carol], handoff_tz: Europe/Berlin }',
  ),
  {},
);
const T0 = Date.parse('2026-01-05T10:00:00Z'); // alice on call until Jan 12 09:00 UTC
const clock = new FakeClock(T0);

let kit: TelegramKit;
let t: TestApp;
beforeAll(async () => {
  ({ kit, t } = await build({ storeTimeout: 3600, config, clock }));
});
beforeEach(async () => {
  clock.set(T0);
  await t.app.services.redis.del(t.app.services.keys.overrides());
});

const u = (id: number) => kit.user({ id, name: `u${id}`, chatId: GROUP, chatType: 'supergroup' });
const alice = () => u(PEOPLE.alice);
const bob = () => u(PEOPLE.bob);
const carol = () => u(PEOPLE.carol);
const root = () => u(PEOPLE.root);
const vic = () => u(PEOPLE.viewer);

const overrides = () =>
  readRuntimeOverrides(t.app.services.redis, t.app.services.keys, 'primary', clock.now());
const onCall = (at: number) => t.app.services.escalation.onCall('primary', at);

const seen = new Set<number>();
/** The next new request message (with Accept/Decline) containing every text. */
async function request(...texts: string[]): Promise<BotMessage> {
  const m = await kit.waitForMessage(
    (m) =>
      m.chatId === GROUP &&
      !seen.has(m.messageId) &&
      m.buttons.flat().some((b) => b.data?.startsWith('tr:y:')) &&
      texts.every((x) => m.text.includes(x)),
    { label: texts.join(' + ') },
  );
  seen.add(m.messageId);
  // the bot records the message id just after Telegram took the message; a test that jumps the
  // clock to the expiry before that would fire the expiry with no message to edit
  const id = data(m, 'tr:y:').slice(5);
  await kit.waitFor(async () => (await t.app.services.trades.get(id))?.messageId === m.messageId, {
    label: 'request message recorded',
  });
  return m;
}
const reply = (...texts: string[]) =>
  kit.waitForMessage((m) => m.chatId === GROUP && texts.every((x) => m.text.includes(x)), {
    label: texts.join(' + '),
  });
const data = (m: BotMessage, prefix: string) =>
  m.buttons.flat().find((b) => b.data?.startsWith(prefix))!.data!;
async function press(who: () => ReturnType<typeof u>, m: BotMessage, prefix: string) {
  const n = kit.answers().length;
  await who().press(m.messageId, data(m, prefix));
  return String((await kit.waitFor(() => kit.answers()[n], { label: 'answer' })).text ?? '');
}
const edited = (m: BotMessage, text: string) =>
  kit.waitForMessage((x) => x.messageId === m.messageId && x.text.includes(text), {
    label: `edit: ${text}`,
  });

/**
 * The expiry edit goes through the outbox, which paces each chat in (fake) time: step the clock a
 * second at a time until the edited message shows up.
 */
const expiredEdit = (m: BotMessage, text: string) =>
  kit.waitFor(
    () => {
      const hit = kit
        .botMessages()
        .find((x) => x.messageId === m.messageId && x.text.includes(text));
      if (!hit) {
        clock.advance(1000);
        t.app.services.timers.notify();
        t.app.services.outbox.notify();
      }
      return hit;
    },
    { label: `expiry edit: ${text}` },
  );

describe('/cover', () => {
  it('a named person accepts: override written, /oncall shows it, escalation pages them, audited', async () => {
    await alice().command('/cover primary 2h bob');
    const m = await request('Cover asked', "alice's shift", `tg://user?id=${PEOPLE.bob}`);
    expect(m.text).toContain('2026-01-05 11:00 Europe/Berlin');
    expect(m.text).toContain('2026-01-05 13:00 Europe/Berlin');
    expect((await onCall(T0))!.person).toBe('alice');
    expect(await press(bob, m, 'tr:y:')).toMatch(/Accepted/);
    const done = await edited(m, 'bob covers alice');
    expect(done.buttons.flat()).toEqual([]);
    expect(await overrides()).toEqual([
      { person: 'bob', from: T0, to: T0 + 2 * 3_600_000, kind: 'cover', for: 'alice' },
    ]);
    expect((await onCall(T0 + 3_600_000))!.person).toBe('bob');
    expect((await onCall(T0 + 2 * 3_600_000))!.person).toBe('alice');

    await alice().command('/oncall');
    const oc = await reply('<b>primary</b>: bob', '(covering for alice)');
    expect(oc.text).toContain('bob covers alice from 2026-01-05 11:00 Europe/Berlin until');

    // escalation through the engine pages the covering person
    const r = await post(
      `${t.url}/hooks/generic`,
      { title: 'cover page', status: 'firing', severity: 'critical', dedup_key: 'cover-page' },
      TOKENS.ci,
    );
    const id = (r.body.incidents as string[])[0]!;
    const ev = await kit.waitFor(
      async () => (await t.app.services.repo.timeline(id)).find((e) => e.type === 'escalated'),
      { label: 'escalated' },
    );
    expect(ev.text).toContain('bob (primary)');
    expect(ev.text).not.toContain('alice');

    const audit = await t.app.services.audit.recent(50);
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'cover.request', actor: 'alice', actor_id: PEOPLE.alice }),
    );
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'cover.accept', actor: 'bob', actor_id: PEOPLE.bob }),
    );
  });

  it('the wrong person, the requester and a viewer are refused; nothing changes', async () => {
    await alice().command('/cover primary 1h bob');
    const m = await request('Cover asked', `tg://user?id=${PEOPLE.bob}`);
    expect(await press(carol, m, 'tr:y:')).toMatch(/Only bob can answer/);
    expect(await press(alice, m, 'tr:y:')).toMatch(/You asked/);
    expect(await press(vic, m, 'tr:y:')).toMatch(/needs|role/i);
    expect(await press(carol, m, 'tr:n:')).toMatch(/Only bob/);
    expect(await overrides()).toEqual([]);
    // bob declines: the message says so, nothing changes, a later Accept finds it decided
    expect(await press(bob, m, 'tr:n:')).toMatch(/Declined/);
    await edited(m, 'Declined by bob');
    expect(await press(bob, m, 'tr:y:')).toMatch(/already decided/);
    expect(await overrides()).toEqual([]);
    const audit = await t.app.services.audit.recent(50);
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'cover.refused', actor: 'carol', reason: 'forbidden' }),
    );
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'cover.refused', actor: 'alice', reason: 'self' }),
    );
  });

  it('only the person on the shift (or an admin) may ask', async () => {
    // carol's next shift is Jan 19: she may ask for that one; vic is a viewer; root (admin) asks for alice
    await vic().command('/cover primary 1h');
    await reply('needs the');
    await root().command('/cover primary 30m carol');
    const m = await request("alice's shift", 'by root');
    expect(m.text).toContain('2026-01-05 11:00');
    await carol().command('/cover primary 1h alice');
    const c = await request("carol's shift", 'by carol');
    expect(c.text).toContain('2026-01-19 10:00 Europe/Berlin');
    await alice().command('/cover primary 1h alice');
    await reply("already alice's");
  });

  it('an open request asks the other members; of concurrent accepts exactly one wins', async () => {
    await alice().command('/cover primary 1h');
    const m = await request('The first to accept covers');
    expect(m.text).toContain(`tg://user?id=${PEOPLE.bob}`);
    expect(m.text).toContain(`tg://user?id=${PEOPLE.carol}`);
    expect(m.text).not.toContain(`tg://user?id=${PEOPLE.alice}`);
    // a second replica on the same Redis: two presses decided on two connections at once
    const t2 = await startTestApp({
      apiRoot: kit.apiRoot,
      token: kit.token,
      config,
      clock,
      prefix: t.prefix,
      polling: false,
    });
    try {
      const id = data(m, 'tr:y:').slice(5);
      const who = (name: 'bob' | 'carol') => ({ name, telegramId: PEOPLE[name] });
      const results = await Promise.all([
        t.app.services.trades.decide(id, who('bob'), true),
        t2.app.services.trades.decide(id, who('carol'), true),
      ]);
      const outcomes = results.map((r) => r.outcome).sort();
      expect(outcomes).toEqual(['accepted', 'done']);
      const list = await overrides();
      expect(list).toHaveLength(1);
      const winner = results.find((r) => r.outcome === 'accepted')!.rec!.decidedBy;
      expect(list[0]).toMatchObject({ person: winner, kind: 'cover', for: 'alice' });
    } finally {
      await t2.stop();
    }
    // through the bot as well: a later press finds it decided
    expect(await press(bob, m, 'tr:y:')).toMatch(/already decided/);
  });

  it('a pending request expires (here when the asked-for hour is over) and the message says so', async () => {
    await alice().command('/cover primary 1h bob');
    const m = await request('Cover asked', 'Open until 2026-01-05 12:00 Europe/Berlin');
    clock.advance(3_600_000 + 1000);
    const e = await expiredEdit(m, 'Expired: nobody accepted');
    expect(e.buttons.flat()).toEqual([]);
    expect(await press(bob, m, 'tr:y:')).toMatch(/expired/);
    expect(await overrides()).toEqual([]);
    const audit = await t.app.services.audit.recent(50);
    expect(audit).toContainEqual(expect.objectContaining({ action: 'cover.expired' }));
  });
});

describe('/swap', () => {
  it('exchanges shifts when the named person accepts; only they may; expiry at the shift start', async () => {
    // alice's shift starting Jan 26 (10:00 Berlin) for bob's next one (Feb 2)
    await alice().command('/swap primary 2026-01-26 bob');
    const m = await request('Swap offered', `tg://user?id=${PEOPLE.bob}`);
    expect(m.text).toContain('2026-01-26 10:00 Europe/Berlin');
    expect(m.text).toContain('2026-02-02 10:00 Europe/Berlin');
    expect(m.text).toContain('Open until 2026-01-06 11:00 Europe/Berlin'); // 24 h
    expect(await press(carol, m, 'tr:y:')).toMatch(/Only bob/);
    expect(await press(alice, m, 'tr:y:')).toMatch(/You asked/);
    const jan27 = Date.parse('2026-01-27T12:00:00Z');
    const feb3 = Date.parse('2026-02-03T12:00:00Z');
    expect((await onCall(jan27))!.person).toBe('alice');
    expect(await press(bob, m, 'tr:y:')).toMatch(/Accepted/);
    await edited(m, 'Swapped: bob takes');
    expect((await onCall(jan27))!.person).toBe('bob');
    expect((await onCall(feb3))!.person).toBe('alice');
    // the handovers stay where they were
    expect((await onCall(Date.parse('2026-01-26T08:59:00Z')))!.person).toBe('carol');
    expect((await onCall(Date.parse('2026-02-09T09:00:00Z')))!.person).toBe('carol');
    await alice().command('/oncall');
    await reply('bob takes alice', '(swap)');
    const audit = await t.app.services.audit.recent(50);
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'swap.accept', actor: 'bob', actor_id: PEOPLE.bob }),
    );
  });

  it('refuses a day without the requester shift, a bad date and a started shift', async () => {
    await alice().command('/swap primary 2026-01-27 bob');
    await reply('You have no shift in <b>primary</b>');
    await alice().command('/swap primary 2026-13-01 bob');
    await reply('is not a date');
    await alice().command('/swap primary 2026-01-05 bob');
    await reply('already started');
  });

  it('a swap pending when the shift starts expires then', async () => {
    clock.set(Date.parse('2026-01-26T00:00:00Z'));
    await alice().command('/swap primary 2026-01-26 bob');
    const m = await request('Swap offered', 'Open until 2026-01-26 10:00 Europe/Berlin');
    clock.set(Date.parse('2026-01-26T09:00:01Z'));
    await expiredEdit(m, 'Expired');
    expect(await overrides()).toEqual([]);
  });
});

describe('/help', () => {
  it('lists /cover and /swap for responders, not viewers; /calendar only in a private chat', async () => {
    await alice().command('/help');
    const h = await reply('Commands for your role', '/cover');
    expect(h.text).toContain('/swap');
    expect(h.text).not.toContain('/calendar');
    await vic().command('/help');
    const v = await reply('Commands for your role (viewer)');
    expect(v.text).not.toContain('/cover');
    await kit
      .user({ id: PEOPLE.alice, chatId: PEOPLE.alice, chatType: 'private' })
      .command('/help');
    const p = await kit.waitForMessage(
      (m) => m.chatId === PEOPLE.alice && m.text.includes('/calendar'),
    );
    expect(p.text).toContain('/cover');
  });
});
