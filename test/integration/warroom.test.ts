import { beforeAll, describe, expect, it } from 'vitest';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE, TOKENS, testConfig } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let t: TestApp;
beforeAll(async () => {
  const config = testConfig();
  config.chats.ops!.war_room = { topics: true, min_severity: 'P1' };
  ({ kit, t } = await build({ config }));
});

const u = (id: number) => kit.user({ id, name: `u${id}`, chatId: GROUP, chatType: 'supergroup' });
async function incident(title: string, severity = 'critical') {
  const r = await post(
    `${t.url}/hooks/generic`,
    { title, status: 'firing', severity, dedup_key: title.slice(0, 200) },
    TOKENS.ci,
  );
  return (r.body.incidents as string[])[0]!;
}
const repo = () => t.app.services.repo;
/** The topic the bot opened for `id`, once its record is on the incident. */
async function topicOf(id: string): Promise<number> {
  return kit.waitFor(async () => (await repo().get(id))?.warRoom?.thread, {
    label: `topic of ${id}`,
  });
}
const topicState = (thread: number) =>
  kit.topics.get(GROUP)?.find((x) => x.message_thread_id === thread);
const inTopic = (thread: number, ...texts: string[]) =>
  kit.waitForMessage(
    (m) => m.chatId === GROUP && m.threadId === thread && texts.every((x) => m.text.includes(x)),
    { label: `in topic ${thread}: ${texts.join(', ')}` },
  );

describe('war-room topic per incident', () => {
  let id: string;
  let thread: number;

  it('a P0 opens its own topic (recorded before the card is posted into it) and leaves a pointer in General', async () => {
    // the first card post into the topic fails once: the retried job must not open a second topic
    kit.failNext(
      'sendMessage',
      1,
      { status: 502, body: { ok: false, error_code: 502, description: 'Bad Gateway' } },
      (b) => b.message_thread_id !== undefined,
    );
    id = await incident('API error rate above 5%');
    thread = await topicOf(id);
    const card = await inTopic(thread, id, 'API error rate above 5%');
    expect(card.buttons.flat().some((b) => b.data === `i:ack:${id.slice(4)}`)).toBe(true);
    const creates = kit.callsOf('createForumTopic');
    expect(creates).toHaveLength(1);
    expect(creates[0]!.body).toMatchObject({
      chat_id: GROUP,
      name: `${id} · API error rate above 5%`,
      icon_color: 0xfb6f5f,
    });
    // the topic was created before anything was sent into it
    const firstInTopic = kit.calls.findIndex(
      (c) => c.method === 'sendMessage' && c.body.message_thread_id === thread,
    );
    expect(kit.calls.findIndex((c) => c.method === 'createForumTopic')).toBeLessThan(firstInTopic);
    const pointer = await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.threadId === undefined && m.text.includes('war room'),
    );
    expect(pointer.text).toContain(id);
    expect(pointer.text).toContain(`https://t.me/c/1000000001/${thread}`);
    // the card itself is not in General
    expect(
      kit
        .botMessages(GROUP)
        .filter((m) => m.threadId === undefined && m.text.includes(id) && m.buttons.length > 0),
    ).toHaveLength(0);
    expect((await repo().timeline(id)).map((e) => e.type)).toContain('war_room');
  });

  it('a long name is trimmed to 128 characters', async () => {
    const long = `disk ${'x'.repeat(300)}`;
    const other = await incident(long);
    await topicOf(other);
    const c = kit.callsOf('createForumTopic').find((x) => String(x.body.name).startsWith(other));
    expect(String(c!.body.name).length).toBeLessThanOrEqual(128);
    expect(String(c!.body.name)).toMatch(/…$/);
  });

  it('what people write in the topic reaches the timeline and /incident (commands and long texts handled)', async () => {
    await u(PEOPLE.alice).say('failing over the primary db now', { thread });
    await u(PEOPLE.bob).say('y'.repeat(700), { thread });
    const said = await kit.waitFor(async () => {
      const tl = (await repo().timeline(id)).filter((e) => e.type === 'chat');
      return tl.length === 2 && tl;
    });
    expect(said[0]).toMatchObject({ actor: 'alice', text: 'failing over the primary db now' });
    expect(said[1]!.actor).toBe('bob');
    expect(said[1]!.text!.length).toBeLessThanOrEqual(500);
    await u(PEOPLE.viewer).command('/incident', { thread });
    const details = await inTopic(thread, 'failing over the primary db now');
    expect(details.text).toContain(id);
    // a message outside any topic is not captured
    await u(PEOPLE.alice).say('lunch anyone?');
    await u(PEOPLE.alice).command('/incident', { thread });
    await kit.waitFor(
      () =>
        kit
          .botMessages(GROUP)
          .filter((m) => m.threadId === thread && m.text.includes('chat · alice')).length >= 2,
    );
    expect((await repo().timeline(id)).some((e) => e.text === 'lunch anyone?')).toBe(false);
  });

  it('/ack in the topic without an id acknowledges its incident and makes the acker commander', async () => {
    await u(PEOPLE.bob).command('/ack', { thread });
    await inTopic(thread, 'acknowledged', id);
    const inc = await repo().get(id);
    expect(inc).toMatchObject({ state: 'acknowledged', ackBy: 'bob' });
    expect(inc!.roles).toEqual({ commander: 'bob' });
    await inTopic(thread, 'Commander: bob', 'API error rate above 5%');
  });

  it('/role assigns roles and records handovers; ids are optional in the topic', async () => {
    await u(PEOPLE.alice).command('/role comms carol', { thread });
    await inTopic(thread, 'Comms is now carol');
    await u(PEOPLE.alice).command(`/role ${id} scribe alice`); // from General, with the id
    await kit.waitFor(async () => (await repo().get(id))?.roles?.scribe === 'alice');
    await u(PEOPLE.alice).command('/role commander alice', { thread });
    await inTopic(thread, 'Commander is now alice');
    await u(PEOPLE.alice).command('/role commander constructor', { thread });
    await inTopic(thread, 'Unknown person constructor');
    await u(PEOPLE.viewer).command('/role comms bob', { thread });
    await inTopic(thread, 'responder');
    const inc = await repo().get(id);
    expect(inc!.roles).toEqual({ commander: 'alice', comms: 'carol', scribe: 'alice' });
    const roles = (await repo().timeline(id)).filter((e) => e.type === 'role').map((e) => e.text);
    expect(roles).toEqual([
      'commander: bob',
      'comms: carol',
      'scribe: alice',
      'commander: bob → alice',
    ]);
    // the card shows them
    await inTopic(thread, 'Commander: alice · Comms: carol · Scribe: alice');
    // and the postmortem, a Markdown document posted in the topic
    await u(PEOPLE.alice).command('/postmortem', { thread });
    const pm = await kit.waitFor(
      () =>
        kit.files.find(
          (f) => f.method === 'sendDocument' && f.chatId === GROUP && f.threadId === thread,
        ),
      { label: 'postmortem document in the topic' },
    );
    const md = pm.bytes!.toString('utf8');
    expect(md).toContain('Incident commander');
    expect(md).toContain('failing over the primary db now');
  });

  it('resolving in the topic closes it and renames it ✅; a re-trigger reopens it for the new incident', async () => {
    await u(PEOPLE.alice).command('/resolve rolled back', { thread });
    // the topic is closed first, then renamed: wait for both
    await kit.waitFor(
      () => topicState(thread)?.closed && topicState(thread)!.name.startsWith('✅'),
    );
    expect(topicState(thread)!.name).toBe(`✅ ${id} · API error rate above 5%`);
    expect(kit.callsOf('closeForumTopic').map((c) => c.body.message_thread_id)).toEqual([thread]);
    expect((await repo().get(id))!.state).toBe('resolved');
    // the checklist went into the topic too
    await inTopic(thread, 'Post-emergency checklist');

    const creates = kit.callsOf('createForumTopic').length;
    const again = await incident('API error rate above 5%');
    expect(again).not.toBe(id);
    await kit.waitFor(() => topicState(thread) && !topicState(thread)!.closed);
    expect(await topicOf(again)).toBe(thread);
    expect(topicState(thread)!.name).toBe(`${again} · API error rate above 5%`);
    expect(kit.callsOf('reopenForumTopic').map((c) => c.body.message_thread_id)).toEqual([thread]);
    expect(kit.callsOf('createForumTopic')).toHaveLength(creates);
    await inTopic(thread, again, 'TRIGGERED');
    await kit.waitForMessage(
      (m) => m.threadId === undefined && m.text.includes(again) && m.text.includes('reopened'),
    );
    // the topic now speaks for the new incident
    await u(PEOPLE.alice).command('/ack', { thread });
    await kit.waitFor(async () => (await repo().get(again))?.state === 'acknowledged');
  });

  it('at min_severity (P1) a topic opens; below it (P2) none does', async () => {
    const p1 = await incident('replica lag high', 'error');
    expect((await repo().get(p1))!.severity).toBe('P1');
    const p1Thread = await topicOf(p1);
    await inTopic(p1Thread, p1);
    expect(topicState(p1Thread)!.icon_color).toBe(0xffd67e);
    const before = kit.callsOf('createForumTopic').length;
    const low = await incident('queue depth warning', 'warning');
    const card = await kit.waitForMessage((m) => m.chatId === GROUP && m.text.includes(low));
    expect(card.threadId).toBeUndefined();
    expect((await repo().get(low))!.warRoom).toBeUndefined();
    expect(kit.callsOf('createForumTopic')).toHaveLength(before);
  });

  it('without the right to manage topics opsbot posts in the chat as before and says so once', async () => {
    kit.setForum(GROUP, { rights: false });
    const a = await incident('no-rights one');
    const b = await incident('no-rights two');
    for (const x of [a, b]) {
      const card = await kit.waitForMessage(
        (m) => m.chatId === GROUP && m.text.includes(x) && m.buttons.length > 0,
      );
      expect(card.threadId).toBeUndefined();
    }
    const refused = kit.callsOf('createForumTopic').filter((c) => c.status === 400);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    await kit.waitForMessage((m) => m.text.includes('could not be created'));
    const c = await incident('no-rights three');
    await kit.waitForMessage((m) => m.chatId === GROUP && m.text.includes(c));
    expect(
      kit.botMessages(GROUP).filter((m) => m.text.includes('could not be created')),
    ).toHaveLength(1);
    expect((await repo().get(a))!.warRoom).toMatchObject({ off: true });
  });
});

describe('/help', () => {
  it('lists /role for responders, not for viewers', async () => {
    await u(PEOPLE.bob).command('/help');
    await kit.waitForMessage((m) => m.text.includes('/role —'));
    const n = kit.botMessages(GROUP).length;
    await u(PEOPLE.viewer).command('/help');
    const viewerHelp = await kit.waitFor(() =>
      kit
        .botMessages(GROUP)
        .slice(n)
        .find((m) => m.text.includes('/help —')),
    );
    expect(viewerHelp.text).not.toContain('/role');
  });
});
