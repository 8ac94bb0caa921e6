import { beforeAll, describe, expect, it } from 'vitest';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, LEADS, PEOPLE, TOKENS, testConfig } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let t: TestApp;
beforeAll(async () => {
  const config = testConfig({ extra: 'stakeholder_chat: leads' });
  ({ kit, t } = await build({ config }));
});

const u = (id: number) => kit.user({ id, name: `u${id}`, chatId: GROUP, chatType: 'supergroup' });
async function incident(title: string, severity = 'critical') {
  const r = await post(
    `${t.url}/hooks/generic`,
    { title, status: 'firing', severity, dedup_key: title },
    TOKENS.ci,
  );
  return (r.body.incidents as string[])[0]!;
}

describe('status updates', () => {
  it('/update with a phase posts to the incident chat and the stakeholder topic, counts for the cadence', async () => {
    const id = await incident('update-phase');
    await u(PEOPLE.alice).command(`/update ${id} identified: bad deploy of api 1.42`);
    const msg = await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes('Identified ·') && m.text.includes(id),
    );
    expect(msg.text).toContain('bad deploy of api 1.42');
    await kit.waitFor(() =>
      kit
        .callsOf('sendMessage')
        .find(
          (c) =>
            Number(c.body.chat_id) === LEADS &&
            String(c.body.text).includes('Identified ·') &&
            Number(c.body.message_thread_id) === 7,
        ),
    );
    const inc = await t.app.services.repo.get(id);
    expect(inc?.lastUpdateAt).toBeGreaterThan(0);
    expect((await t.app.services.repo.timeline(id)).find((e) => e.type === 'update')?.text).toBe(
      'identified: bad deploy of api 1.42',
    );
  });

  it('/update without a phase asks with buttons and posts on the press', async () => {
    const id = await incident('update-buttons');
    await u(PEOPLE.alice).command(`/update ${id} rolling back now`);
    const ask = await kit.waitForMessage(
      (m) => m.text.includes('Which phase') && m.text.includes(id),
    );
    expect(ask.buttons.flat().map((b) => b.data)).toEqual(
      expect.arrayContaining([`up:monitoring:${id.slice(4)}`]),
    );
    await u(PEOPLE.alice).press(ask.messageId, `up:monitoring:${id.slice(4)}`);
    await kit.waitForMessage(
      (m) =>
        m.chatId === GROUP &&
        m.text.includes('Monitoring ·') &&
        m.text.includes('rolling back now'),
    );
  });
});

describe('post-emergency checklist', () => {
  it('resolving a P0 posts the checklist; two users tick items; who ticked what is on the timeline', async () => {
    const id = await incident('checklist-p0');
    await t.app.services.actions.resolve(id, 'alice');
    const ck = await kit.waitForMessage(
      (m) =>
        m.chatId === GROUP && m.text.includes('Post-emergency checklist') && m.text.includes(id),
    );
    expect(ck.buttons.flat()).toHaveLength(15);
    const seq = id.slice(4);
    await u(PEOPLE.alice).press(ck.messageId, `ck:${seq}:0`);
    await kit.waitFor(() =>
      kit.botMessages(GROUP).find((m) => m.messageId === ck.messageId && m.text.includes('1/15')),
    );
    await u(PEOPLE.bob).press(ck.messageId, `ck:${seq}:5`);
    const after = await kit.waitFor(() =>
      kit.botMessages(GROUP).find((m) => m.messageId === ck.messageId && m.text.includes('2/15')),
    );
    expect(after.text).toMatch(/✅ All services running and healthy — <i>alice<\/i>/);
    expect(after.text).toMatch(/Stability confirmed.*— <i>bob<\/i>/);
    // un-tick
    await u(PEOPLE.alice).press(ck.messageId, `ck:${seq}:0`);
    await kit.waitFor(() =>
      kit.botMessages(GROUP).find((m) => m.messageId === ck.messageId && m.text.includes('1/15')),
    );
    const tl = (await t.app.services.repo.timeline(id)).filter((e) => e.type === 'checklist');
    expect(tl.map((e) => [e.actor, e.data?.done])).toEqual([
      ['alice', true],
      ['bob', true],
      ['alice', false],
    ]);
    // viewers cannot tick
    const n = kit.answers().length;
    await u(PEOPLE.viewer).press(ck.messageId, `ck:${seq}:1`);
    expect(String((await kit.waitFor(() => kit.answers()[n])).text)).toMatch(/responder/);
  });

  it('a P2 resolution posts no checklist', async () => {
    const id = await incident('no-checklist', 'warning');
    await kit.waitForMessage((m) => m.text.includes(`<code>${id}</code>`), { timeoutMs: 20_000 });
    await t.app.services.actions.resolve(id, 'alice');
    await kit.waitFor(() =>
      kit
        .botMessages(GROUP)
        .find((m) => m.text.includes(`<code>${id}</code>`) && /RESOLVED/.test(m.text)),
    );
    expect(
      kit
        .botMessages(GROUP)
        .some((m) => m.text.includes('Post-emergency checklist') && m.text.includes(id)),
    ).toBe(false);
  });
});

describe('postmortem and statistics', () => {
  it('/postmortem sends the draft (as messages when sendDocument fails); the API returns the same Markdown', async () => {
    const id = await incident('pm-incident');
    await t.app.services.actions.acknowledge(id, 'alice');
    await t.app.services.actions.note(id, 'alice', 'found the bad deploy');
    await t.app.services.actions.resolve(id, 'bob', 'rolled back');
    kit.failNext('sendDocument', 1, {
      status: 400,
      body: {
        ok: false,
        error_code: 400,
        description: 'Bad Request: not enough rights to send documents to the chat',
      },
    });
    await u(PEOPLE.alice).command(`/postmortem ${id}`);
    const m = await kit.waitForMessage(
      (x) => x.chatId === GROUP && x.text.includes('Postmortem draft') && x.text.includes(id),
    );
    expect(m.text).toContain(`# Postmortem: ${id}`);
    expect(m.text).toContain('found the bad deploy');
    const unauth = await fetch(`${t.url}/api/v1/incidents/${id}/postmortem`);
    expect(unauth.status).toBe(401);
    const res = await fetch(`${t.url}/api/v1/incidents/${id}/postmortem`, {
      headers: { authorization: `Bearer ${TOKENS.api}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/markdown/);
    const md = await res.text();
    expect(md).toContain('## Impact window');
    expect(md).toMatch(/\*\*bob\*\*: .*Resolved/);
    expect(kit.callsOf('sendDocument').length).toBeGreaterThan(0); // tried first, refused
  });

  it('/stats replies with the chart and the table', async () => {
    await u(PEOPLE.viewer).command('/stats 7d');
    const m = await kit.waitForMessage(
      (x) => x.chatId === GROUP && x.text.includes('Response statistics'),
    );
    expect(m.text).toMatch(/P0\s+\d+/);
    expect(kit.callsOf('sendPhoto').length).toBeGreaterThan(0);
    await u(PEOPLE.viewer).command('/stats forever');
    await kit.waitForMessage((x) => x.chatId === GROUP && x.text.includes('Usage: /stats'));
  });
});
