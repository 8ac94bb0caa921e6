import { beforeAll, describe, expect, it } from 'vitest';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE, TOKENS } from '../helpers/config.js';
import type { BotMessage, TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let t: TestApp;

beforeAll(async () => {
  ({ kit, t } = await build({ storeTimeout: 3600 }));
});

const u = (id: number) => kit.user({ id, name: `u${id}`, chatId: GROUP, chatType: 'supergroup' });
const alice = () => u(PEOPLE.alice);
const bob = () => u(PEOPLE.bob);
const root = () => u(PEOPLE.root);

async function alert(title: string, labels: Record<string, string>) {
  const r = await post(
    `${t.url}/hooks/generic`,
    { title, status: 'firing', severity: 'warning', dedup_key: title, labels },
    TOKENS.ci,
  );
  expect(r.status).toBe(202);
  const id = (r.body.incidents as string[])[0]!;
  return { id, inc: (await t.app.services.repo.get(id))! };
}

const silencesMatching = async (labels: Record<string, string>) =>
  (await t.app.services.silences.matching(labels)) ?? null;

/** The reply to a command containing every text (as HTML). */
const reply = (...texts: string[]) =>
  kit.waitForMessage((m) => m.chatId === GROUP && texts.every((x) => m.text.includes(x)), {
    label: texts.join(' + '),
  });

const previewOf = (matchers: string) => reply('Silence preview', matchers);
const dataOf = (m: BotMessage, prefix: string) =>
  m.buttons.flat().find((b) => b.data?.startsWith(prefix))!.data!;

async function pressAndAnswer(who: () => ReturnType<typeof u>, m: BotMessage, data: string) {
  const n = kit.answers().length;
  await who().press(m.messageId, data);
  return kit.waitFor(() => kit.answers()[n], { label: 'callback answer' });
}

describe('/silence: cannot blind the team', () => {
  it('refuses a silence that matches every alert, pointing to /maintenance', async () => {
    await alice().command('/silence 2h anything=~.*');
    const a = await reply('would match every alert', '/maintenance');
    expect(a.text).toContain('anything=~.*');
    expect(a.buttons).toEqual([]);
    await alice().command('/silence 2h x!=y');
    await reply('<code>x!=y</code> would match every alert');
    // Nothing was stored: an alert with any labels is not silenced.
    expect(await silencesMatching({ service: 'whatever' })).toBeNull();
    expect(await silencesMatching({})).toBeNull();
  });

  it('refuses a silence longer than the role allows, naming the maximum', async () => {
    // alice is responder + approver; approver falls back to the responder maximum (24h)
    await alice().command('/silence 2d service=db-long');
    await reply('Too long', 'at most 1d');
    expect(await silencesMatching({ service: 'db-long' })).toBeNull();
    // an admin may go up to 30d (the preview appears)
    await root().command('/silence 2d service=db-long');
    await previewOf('service=db-long');
  });

  it('a bad or too long regex gets a reply naming the problem', async () => {
    await alice().command('/silence 1h service=~(a');
    await reply('Bad regular expression', 'missing closing )');
    await alice().command(`/silence 1h service=~${'a'.repeat(300)}`);
    await reply('Bad regular expression', 'at most 256');
  });

  it('previews matchers, end time and matching open incidents; Confirm by the author applies it', async () => {
    const a1 = await alert('pay latency', { service: 'pay' });
    const a2 = await alert('pay errors', { service: 'pay', region: 'eu' });
    await alert('search slow', { service: 'search' });
    await alice().command('/silence 2h service=pay checkout deploy');
    const preview = await previewOf('service=pay');
    expect(preview.text).toMatch(/until \d{4}-\d\d-\d\d \d\d:\d\d UTC \(2h\)/);
    expect(preview.text).toContain('Open incidents it matches now: 2');
    expect(preview.text).toContain(`<code>${a1.id}</code>`);
    expect(preview.text).toContain(`<code>${a2.id}</code>`);
    expect(preview.text).not.toContain('search slow');
    expect(preview.text).toContain('Reason: checkout deploy');
    // Not in effect before Confirm.
    expect(await silencesMatching({ service: 'pay' })).toBeNull();
    const data = dataOf(preview, 'sc:y:');
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    const ans = await pressAndAnswer(alice, preview, data);
    expect(String(ans.text)).toMatch(/confirmed/);
    const active = await silencesMatching({ service: 'pay' });
    expect(active).toMatchObject({ by: 'alice', matchers: { service: 'pay' } });
    const edited = await kit.waitForMessage(
      (m) => m.messageId === preview.messageId && m.text.includes(`<code>${active!.id}</code>`),
    );
    expect(edited.buttons.flat()).toEqual([]);
    // a new alert with those labels is recorded, not posted
    const later = await alert('pay again', { service: 'pay' });
    expect(later.inc.silenced).toBe(true);
    const audit = await t.app.services.audit.recent(20);
    expect(audit).toContainEqual(
      expect.objectContaining({
        action: 'silence.confirm',
        actor: 'alice',
        telegram_id: PEOPLE.alice,
        id: active!.id,
      }),
    );
    // a second press finds nothing left to confirm
    const again = await pressAndAnswer(alice, preview, data);
    expect(String(again.text)).toMatch(/expired or was already handled/);
  });

  it('Confirm pressed by someone else is refused and changes nothing', async () => {
    await alice().command('/silence 1h service=orders');
    const preview = await previewOf('service=orders');
    const ans = await pressAndAnswer(bob, preview, dataOf(preview, 'sc:y:'));
    expect(String(ans.text)).toMatch(/Only alice can confirm/);
    expect(await silencesMatching({ service: 'orders' })).toBeNull();
    const cancel = await pressAndAnswer(bob, preview, dataOf(preview, 'sc:n:'));
    expect(String(cancel.text)).toMatch(/Only alice/);
    // still pending for alice
    await pressAndAnswer(alice, preview, dataOf(preview, 'sc:y:'));
    expect(await silencesMatching({ service: 'orders' })).toMatchObject({ by: 'alice' });
  });

  it('Cancel drops the pending silence', async () => {
    await alice().command('/silence 1h service=billing');
    const preview = await previewOf('service=billing');
    await pressAndAnswer(alice, preview, dataOf(preview, 'sc:n:'));
    await kit.waitForMessage(
      (m) => m.messageId === preview.messageId && m.text.includes('Silence cancelled by alice'),
    );
    const late = await pressAndAnswer(alice, preview, dataOf(preview, 'sc:y:'));
    expect(String(late.text)).toMatch(/expired or was already handled/);
    expect(await silencesMatching({ service: 'billing' })).toBeNull();
  });

  it('the incident Silence button "until resolved" lasts at most the role maximum', async () => {
    const { id, inc } = await alert('button silence', { service: 'button' });
    const before = Date.now();
    const msg = await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes(`<code>${id}</code>`) && m.buttons.length > 0,
    );
    const ans = await pressAndAnswer(bob, msg, `i:sres:${inc.seq}`);
    expect(String(ans.text)).toMatch(/silenced/);
    const after = (await t.app.services.repo.get(id))!;
    expect(after.silencedUntil).toBeGreaterThanOrEqual(before + 86_400_000 - 5_000);
    expect(after.silencedUntil).toBeLessThanOrEqual(Date.now() + 86_400_000);
  });
});
