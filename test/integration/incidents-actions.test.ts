import { beforeAll, describe, expect, it } from 'vitest';
import { openIncident, post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { parseConfig } from '../../src/config.js';
import { GROUP, PEOPLE, STRANGER, TOKENS, testConfigYaml } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let t: TestApp;

beforeAll(async () => {
  ({ kit, t } = await build({ storeTimeout: 3600 }));
});

const u = (id: number) => kit.user({ id, name: `u${id}`, chatId: GROUP, chatType: 'supergroup' });
const alice = () => u(PEOPLE.alice);
const bob = () => u(PEOPLE.bob);

const newIncident = (title: string) => openIncident(t, kit, title);
const answerCount = () => kit.answers().length;
const nextAnswer = async (n: number) =>
  kit.waitFor(() => kit.answers()[n], { label: 'callback answer' });
const state = async (id: string) => (await t.app.services.repo.get(id))?.state;

/** The id the emulator gave the last message a user sent with exactly this text. */
function userMessageId(text: string): number {
  const stored = kit.server.storage.userMessages as unknown as {
    messageId: number;
    message: { text?: string };
  }[];
  const m = stored.findLast((u) => u.message.text === text);
  if (!m) throw new Error(`no user message ${text}`);
  return m.messageId;
}

/** Waits for the 👍 the bot puts on a /note command, answered 200 by the Bot API. */
async function noteReaction(text: string) {
  const messageId = userMessageId(text);
  return kit.waitFor(
    () =>
      kit
        .callsOf('setMessageReaction')
        .find(
          (c) =>
            c.status === 200 &&
            Number(c.body.chat_id) === GROUP &&
            Number(c.body.message_id) === messageId,
        ),
    { label: 'reaction on the /note command' },
  );
}

describe('incident buttons', () => {
  it('viewer and stranger presses are refused naming the role, with no effect', async () => {
    const { id, seq, msg } = await newIncident('refusals');
    for (const who of [PEOPLE.viewer, STRANGER]) {
      const n = answerCount();
      await u(who).press(msg.messageId, `i:ack:${seq}`);
      const a = await nextAnswer(n);
      expect(String(a.text)).toMatch(/responder/);
    }
    expect(await state(id)).toBe('triggered');
  });

  it('acknowledge edits the message in place showing who and when', async () => {
    const { id, seq, msg } = await newIncident('ack-button');
    const n = answerCount();
    await alice().press(msg.messageId, `i:ack:${seq}`);
    expect(String((await nextAnswer(n)).text)).toMatch(/acknowledged/);
    const edited = await kit.waitFor(() =>
      kit
        .botMessages(GROUP)
        .find((m) => m.messageId === msg.messageId && /Acknowledged by/.test(m.text)),
    );
    expect(edited.text).toMatch(/alice/);
    expect(edited.buttons.flat().map((b) => b.data)).toContain(`i:unack:${seq}`);
    expect(await state(id)).toBe('acknowledged');
    const tl = await t.app.services.repo.timeline(id);
    expect(tl.filter((e) => e.type === 'acknowledged')).toEqual([
      expect.objectContaining({ actor: 'alice' }),
    ]);
  });

  it('two responders press Acknowledge at once: one ack, both answered, the second told who was first', async () => {
    const { id, seq, msg } = await newIncident('race');
    const n = answerCount();
    await Promise.all([
      alice().press(msg.messageId, `i:ack:${seq}`),
      bob().press(msg.messageId, `i:ack:${seq}`),
    ]);
    await kit.waitFor(() => kit.answers().length >= n + 2, { label: 'two answers' });
    const texts = kit
      .answers()
      .slice(n)
      .map((a) => String(a.text));
    expect(texts.filter((x) => /Already acknowledged by/.test(x))).toHaveLength(1);
    expect(
      (await t.app.services.repo.timeline(id)).filter((e) => e.type === 'acknowledged'),
    ).toHaveLength(1);
  });

  it('resolve, then every further action is refused as already resolved', async () => {
    const { id, seq, msg } = await newIncident('resolve-button');
    let n = answerCount();
    await alice().press(msg.messageId, `i:res:${seq}`);
    await nextAnswer(n);
    expect(await state(id)).toBe('resolved');
    const edited = await kit.waitFor(() =>
      kit.botMessages(GROUP).find((m) => m.messageId === msg.messageId && /RESOLVED/.test(m.text)),
    );
    expect(edited.buttons.flat().some((b) => b.data === `i:ack:${seq}`)).toBe(false);
    n = answerCount();
    await bob().press(msg.messageId, `i:ack:${seq}`);
    expect(String((await nextAnswer(n)).text)).toMatch(/already resolved/);
  });

  it('silence opens a sub-menu, a choice silences, Back returns', async () => {
    const { id, seq, msg } = await newIncident('silence-menu');
    await alice().press(msg.messageId, `i:sil:${seq}`);
    await kit.waitFor(() =>
      kit
        .botMessages(GROUP)
        .find(
          (m) =>
            m.messageId === msg.messageId &&
            m.buttons.flat().some((b) => b.data === `i:s1h:${seq}`),
        ),
    );
    await alice().press(msg.messageId, `i:back:${seq}`);
    await kit.waitFor(() =>
      kit
        .botMessages(GROUP)
        .find(
          (m) =>
            m.messageId === msg.messageId &&
            m.buttons.flat().some((b) => b.data === `i:ack:${seq}`),
        ),
    );
    await alice().press(msg.messageId, `i:s4h:${seq}`);
    await kit.waitFor(
      async () =>
        ((await t.app.services.repo.get(id))?.silencedUntil ?? 0) > Date.now() + 3 * 3_600_000,
    );
    expect((await t.app.services.repo.timeline(id)).map((e) => e.type)).toContain('silenced');
  });

  it('forged, malformed and unknown callback data change nothing', async () => {
    const { id, msg } = await newIncident('forged');
    // the first escalation level (due at once) writes its entry on its own time: wait for it first
    await kit.waitFor(async () =>
      (await t.app.services.repo.timeline(id)).some((e) => e.type === 'escalated'),
    );
    const before = await t.app.services.repo.timeline(id);
    for (const data of [
      'i:ack:999999',
      'i:nuke:1',
      'i:ack:1:extra',
      'garbage',
      'ap:y:' + '0'.repeat(32),
    ]) {
      const n = answerCount();
      await alice().press(msg.messageId, data);
      await nextAnswer(n);
    }
    expect(await t.app.services.repo.timeline(id)).toEqual(before);
    expect(await state(id)).toBe('triggered');
  });

  it('Details posts the timeline', async () => {
    const { id, seq, msg } = await newIncident('details');
    await u(PEOPLE.viewer).press(msg.messageId, `i:det:${seq}`);
    const d = await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes('Timeline') && m.text.includes(id),
    );
    expect(d.text).toMatch(/triggered/);
  });
});

describe('incident commands', () => {
  it('/note is acknowledged with a 👍 on the command, not a new message', async () => {
    const { id } = await newIncident('note-reaction');
    const text = `/note ${id} rolled back the deploy`;
    const sent = kit.botMessages(GROUP).length;
    await alice().command(text);
    const call = await noteReaction(text);
    expect(call.body.reaction).toEqual([{ type: 'emoji', emoji: '👍' }]);
    expect(
      kit
        .botMessages(GROUP)
        .slice(sent)
        .filter((m) => m.text.includes('Note added')),
    ).toEqual([]);
    const notes = (await t.app.services.repo.timeline(id)).filter((e) => e.type === 'note');
    expect(notes.map((e) => [e.actor, e.text])).toEqual([['alice', 'rolled back the deploy']]);
    // closed again, so the /incidents page below still shows its own incident first
    await t.app.services.actions.resolve(id, 'alice');
  });

  it('/note falls back to a reply when the reaction fails', async () => {
    const { id } = await newIncident('note-reaction-fails');
    kit.failNext('setMessageReaction', 1, {
      status: 400,
      body: { ok: false, error_code: 400, description: 'Bad Request: REACTION_INVALID' },
    });
    await alice().command(`/note ${id} reactions are off here`);
    await kit.waitForMessage((m) => m.text.includes('Note added') && m.text.includes(id), {
      label: 'fallback reply',
    });
    expect(kit.callsOf('setMessageReaction').at(-1)?.status).toBe(400);
    const notes = (await t.app.services.repo.timeline(id)).filter((e) => e.type === 'note');
    expect(notes.map((e) => e.text)).toEqual(['reactions are off here']);
    await t.app.services.actions.resolve(id, 'alice');
  });

  it('/ack, /note, /sev, /assign, /resolve with a note; replies name the result', async () => {
    const { id } = await newIncident('commands');
    await alice().command(`/ack ${id}`);
    await kit.waitForMessage((m) => m.text.includes(`alice acknowledged`) && m.text.includes(id));
    await alice().command(`/note ${id} checked the load balancer`);
    await noteReaction(`/note ${id} checked the load balancer`);
    await alice().command(`/sev ${id} P0`);
    await kit.waitForMessage((m) => m.text.includes(`${id}</code> is now P0`));
    await alice().command(`/assign ${id} bob`);
    await kit.waitForMessage((m) => m.text.includes('assigned to bob'));
    await bob().command(`/resolve ${id} restarted the api`);
    await kit.waitForMessage((m) => m.text.includes('bob resolved') && m.text.includes(id));
    const inc = await t.app.services.repo.get(id);
    expect(inc).toMatchObject({
      state: 'resolved',
      severity: 'P0',
      assignee: 'bob',
      resolvedBy: 'bob',
    });
    const types = (await t.app.services.repo.timeline(id)).map((e) => [
      e.type,
      e.actor,
      e.text ?? '',
    ]);
    expect(types).toEqual(
      expect.arrayContaining([
        ['acknowledged', 'alice', ''],
        ['note', 'alice', 'checked the load balancer'],
        ['severity', 'alice', 'P1 → P0'],
        ['assigned', 'alice', 'bob'],
        ['resolved', 'bob', 'restarted the api'],
      ]),
    );
  });

  it('a command replying to the incident message acts on that incident', async () => {
    const { id, msg } = await newIncident('reply-to');
    await alice().command('/ack', { replyTo: msg.messageId });
    await kit.waitForMessage((m) => m.text.includes('alice acknowledged') && m.text.includes(id));
    expect(await state(id)).toBe('acknowledged');
  });

  it('unknown incident and missing id get clear replies', async () => {
    await alice().command('/ack INC-424242');
    await kit.waitForMessage((m) => m.text.includes('No incident INC-424242'));
    await alice().command('/resolve');
    await kit.waitForMessage((m) => m.text.includes('Which incident?'));
  });

  it('/incidents lists open ones; /status counts them and names the oldest unacknowledged', async () => {
    await newIncident('listing');
    await alice().command('/incidents');
    const list = await kit.waitForMessage(
      (m) => m.text.includes('Open incidents:') && m.text.includes('listing'),
    );
    expect(list.text).toMatch(/P1/);
    await alice().command('/status');
    const st = await kit.waitForMessage(
      (m) => m.text.includes('opsbot status') && m.text.includes('Oldest unacknowledged'),
    );
    expect(st.text).toMatch(/🟠 P1: [1-9]/);
  });

  it('/silence by labels suppresses new notifications but still records incidents; /silences lists it', async () => {
    await alice().command('/silence 1h service=noisy flapping check');
    const preview = await kit.waitForMessage(
      (m) => m.text.includes('Silence preview') && m.text.includes('service=noisy'),
    );
    await alice().press(preview.messageId, preview.buttons[0]![0]!.data!);
    await kit.waitForMessage(
      (m) => m.messageId === preview.messageId && m.text.includes('Incidents are still recorded'),
    );
    const r = await post(
      `${t.url}/hooks/generic`,
      { title: 'noisy thing', status: 'firing', labels: { service: 'noisy' } },
      TOKENS.ci,
    );
    const id = (r.body.incidents as string[])[0]!;
    expect((await t.app.services.repo.get(id))?.silenced).toBe(true);
    await alice().command('/silences');
    const list = await kit.waitForMessage((m) => m.text.includes('Active silences'));
    expect(list.buttons.flat()[0]?.data).toMatch(/^sx:/);
    expect(
      kit.callsOf('sendMessage').some((c) => JSON.stringify(c.body).includes('noisy thing')),
    ).toBe(false);
  });
});

describe('a change while the first card is on its way', () => {
  // its own app and emulator: the group's pacing (20 a minute) is not spent by the tests above
  let kit2: TelegramKit;
  let t2: TestApp;
  beforeAll(async () => {
    // no level fires at once, so nothing but the card itself is queued for the chat
    const config = parseConfig(
      testConfigYaml({ levels: `      - { after: 1h, notify: ["person:root"] }` }),
      {},
    );
    ({ kit: kit2, t: t2 } = await build({ storeTimeout: 3600, config }));
  });

  it('an acknowledgement made while Telegram takes the new card still reaches that card', async () => {
    const title = 'ack-in-flight';
    const gate = kit2.gate('sendMessage', (b) => String(b.text).includes(title));
    const r = await post(
      `${t2.url}/hooks/generic`,
      { title, status: 'firing', severity: 'error', dedup_key: title },
      TOKENS.ci,
    );
    const id = (r.body.incidents as string[])[0]!;
    // Telegram has the card, opsbot has not yet recorded its message id: acknowledge now
    await gate.arrived;
    expect((await t2.app.services.actions.acknowledge(id, 'alice')).ok).toBe(true);
    gate.release();
    const card = await kit2.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes(title) && /Acknowledged by/.test(m.text),
      { label: 'the card shows the acknowledgement' },
    );
    expect(card.buttons.flat().map((b) => b.data)).toContain(`i:unack:${id.slice(4)}`);
  });
});
