import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, LEADS, PEOPLE, TOKENS, testConfigYaml } from '../helpers/config.js';
import { dropPrefix } from '../helpers/redis.js';
import type { TelegramKit } from '../helpers/telegram.js';

// second-scale durations: real time, waited for by polling the emulator (no fixed sleeps)
const config = parseConfig(
  testConfigYaml({
    levels: `      - { after: 0s, notify: ["chat:ops"] }
      - { after: 1s, notify: ["person:root"] }
      - { after: 2s, notify: ["chat:leads"] }`,
    severities: `  P0: { ack_within: 1s, update_every: 1s, policy: critical }
  P1: { ack_within: 1h, update_every: 1h, policy: critical, reack_after: 1s }
  P2: { ack_within: 4h, policy: critical }
  P3: { ack_within: 1d }`,
  }).replace(
    'escalation_policies:\n  critical:',
    'escalation_policies:\n  critical:\n    repeat: 1',
  ),
  {},
);

let kit: TelegramKit;
let t: TestApp;
beforeAll(async () => {
  ({ kit, t } = await build({ storeTimeout: 3600, config }));
  // root has started the bot in private; bob has not
  await kit.user({ id: PEOPLE.root, chatId: PEOPLE.root, chatType: 'private' }).command('/start');
  await kit.waitForMessage((m) => m.chatId === PEOPLE.root);
});

async function fire(title: string, severity = 'error') {
  const r = await post(
    `${t.url}/hooks/generic`,
    { title, status: 'firing', severity, dedup_key: title },
    TOKENS.ci,
  );
  return (r.body.incidents as string[])[0]!;
}
const escalations = async (id: string) =>
  (await t.app.services.repo.timeline(id)).filter((e) => e.type === 'escalated');

/** A second app on its own prefix with the given policy levels, stopped and dropped afterwards. */
async function withPolicy(levels: string, fn: (t2: TestApp) => Promise<void>) {
  const t2 = await startTestApp({
    apiRoot: kit.apiRoot,
    token: kit.token,
    config: parseConfig(testConfigYaml({ levels }), {}),
    polling: false,
  });
  try {
    await fn(t2);
  } finally {
    await t2.stop();
    await dropPrefix(t2.prefix);
  }
}

describe('escalation', () => {
  it('levels fire in order and on time, then the chain repeats; ack stops it', async () => {
    const id = await fire('chain');
    const start = (await t.app.services.repo.get(id))!.createdAt;
    await kit.waitFor(async () => (await escalations(id)).length >= 3, {
      timeoutMs: 20_000,
      label: 'three levels',
    });
    const ev = await escalations(id);
    expect(ev.slice(0, 3).map((e) => e.data?.level)).toEqual([0, 1, 2]);
    expect(ev[1]!.t - start).toBeGreaterThanOrEqual(1000);
    expect(ev[2]!.t - start).toBeGreaterThanOrEqual(2000);
    // level 2 paged root by DM, level 3 posted in the leads topic
    await kit.waitFor(
      () => kit.botMessages(PEOPLE.root).some((m) => m.text.includes(id) && /paged/.test(m.text)),
      { label: 'root paged by DM' },
    );
    await kit.waitFor(
      () =>
        kit
          .callsOf('sendMessage')
          .some(
            (c) =>
              Number((c.body as { chat_id: number }).chat_id) === LEADS &&
              JSON.stringify(c.body).includes(id),
          ),
      { label: 'leads topic' },
    );
    // the incident message shows the level and who was paged
    await kit.waitFor(() =>
      kit.botMessages(GROUP).find((m) => m.text.includes(id) && /Level 3/.test(m.text)),
    );
    await t.app.services.actions.acknowledge(id, 'alice');
    const after = (await escalations(id)).length;
    // repeat would fire loop 1 after ≥ 60 s; the pending timer is cancelled by the ack
    const due = await t.app.services.redis.zrange(t.app.services.keys.timers(), 0, -1);
    expect(due.filter((x) => x.startsWith(`esc:${id}:`))).toEqual([]);
    expect(after).toBe(3);
  });

  it('resolve cancels what is pending', async () => {
    const id = await fire('cancel-on-resolve');
    await kit.waitFor(async () => (await escalations(id)).length >= 1);
    await t.app.services.actions.resolve(id, 'alice');
    const due = await t.app.services.redis.zrange(t.app.services.keys.timers(), 0, -1);
    expect(due.filter((x) => x.includes(id))).toEqual([]);
  });

  it('/escalate moves to the next level now', async () => {
    const slow = await fire('manual', 'warning'); // P2 uses the same policy: level 2 after 1s anyway
    await kit.waitFor(async () => (await escalations(slow)).length >= 1);
    const alice = kit.user({ id: PEOPLE.alice, chatId: GROUP, chatType: 'supergroup' });
    await alice.command(`/escalate ${slow}`);
    await kit.waitFor(async () => (await escalations(slow)).length >= 2, { timeoutMs: 15_000 });
    const tl = await t.app.services.repo.timeline(slow);
    expect(tl.some((e) => e.type === 'escalate_requested' && e.actor === 'alice')).toBe(true);
  });

  it('paging the same person or chat again posts a new message (a silent edit would ring no phone)', async () => {
    await withPolicy(
      `      - { after: 0s, notify: ["chat:ops", "person:root"] }
      - { after: 1s, notify: ["chat:ops", "person:root"] }`,
      async (t2) => {
        const r = await post(
          `${t2.url}/hooks/generic`,
          { title: 'ring-again', status: 'firing', severity: 'critical' },
          TOKENS.ci,
        );
        const id = (r.body.incidents as string[])[0]!;
        const sends = (chat: number) =>
          kit.okCalls('sendMessage', chat, `<code>${id}</code>`, 'ring-again');
        await kit.waitFor(() => sends(GROUP).length >= 2 && sends(PEOPLE.root).length >= 2, {
          timeoutMs: 15_000,
          label: 'second level rings again',
        });
        // group: the incident, then a new post for level 2 replying to it
        expect(String(sends(GROUP)[0]!.body.text)).not.toMatch(/Escalation level/);
        expect(String(sends(GROUP)[1]!.body.text)).toMatch(/Escalation level 2/);
        expect(JSON.stringify(sends(GROUP)[1]!.body)).toMatch(/reply_parameters/);
        // DM: paged at level 1 and again at level 2, each a new message with the buttons
        expect(
          sends(PEOPLE.root).map(
            (c) => /paged<\/b> \(escalation level (\d)/.exec(String(c.body.text))?.[1],
          ),
        ).toEqual(['1', '2']);
        expect(JSON.stringify(sends(PEOPLE.root)[1]!.body)).toMatch(/i:ack:/);
        // acknowledged: later updates edit the newest message of each chat in place, nothing new rings
        await t2.app.services.actions.acknowledge(id, 'root');
        await kit.waitFor(
          () =>
            kit
              .callsOf('editMessageText')
              .some(
                (c) =>
                  Number(c.body.chat_id) === PEOPLE.root &&
                  /acknowledged/i.test(String(c.body.text)),
              ),
          { label: 'DM edited' },
        );
        expect(sends(PEOPLE.root)).toHaveLength(2);
        expect(sends(GROUP)).toHaveLength(2);
      },
    );
  });

  it('a person who never started the bot is mentioned in the incident chat instead', async () => {
    await withPolicy(`      - { after: 0s, notify: ["person:bob"] }`, async (t2) => {
      kit.failNext(
        'sendMessage',
        1,
        {
          status: 403,
          body: {
            ok: false,
            error_code: 403,
            description: "Forbidden: bot can't initiate conversation with a user",
          },
        },
        (b) => Number(b.chat_id) === PEOPLE.bob,
      );
      const r = await post(
        `${t2.url}/hooks/generic`,
        { title: 'dm-fallback', status: 'firing', severity: 'critical' },
        TOKENS.ci,
      );
      const id = (r.body.incidents as string[])[0]!;
      const m = await kit.waitForMessage(
        (x) =>
          x.chatId === GROUP &&
          x.text.includes('never started a private chat') &&
          x.text.includes(id),
        { timeoutMs: 20_000 },
      );
      expect(m.text).toMatch(/bob/);
      expect((await t2.app.services.repo.timeline(id)).some((e) => e.type === 'page_failed')).toBe(
        true,
      );
    });
  });

  it('an unacknowledged incident past ack_within is marked as a breach and announced', async () => {
    const id = await fire('breach', 'critical');
    await kit.waitForMessage((m) => m.text.includes(id) && m.text.includes('response target'), {
      timeoutMs: 20_000,
    });
    expect((await t.app.services.repo.get(id))?.breached).toBe(true);
    expect((await t.app.services.repo.timeline(id)).some((e) => e.type === 'breach')).toBe(true);
  });

  it('update cadence reminds the assignee; an /update resets it', async () => {
    const id = await fire('cadence', 'critical');
    await t.app.services.actions.acknowledge(id, 'alice');
    await kit.waitForMessage((m) => m.text.includes(id) && m.text.includes('has had no update'), {
      timeoutMs: 20_000,
    });
    const tl = await t.app.services.repo.timeline(id);
    expect(tl.some((e) => e.type === 'update_reminder' && e.text === 'alice')).toBe(true);
  });

  it('reack_after returns an acknowledged incident to triggered', async () => {
    const id = await fire('reack', 'error');
    await t.app.services.actions.acknowledge(id, 'alice');
    await kit.waitFor(async () => (await t.app.services.repo.get(id))?.state === 'triggered', {
      timeoutMs: 20_000,
    });
    expect((await t.app.services.repo.timeline(id)).some((e) => e.type === 'ack_timeout')).toBe(
      true,
    );
  });

  it('heartbeat: a ping arms the switch; a miss opens an incident, the next ping resolves it', async () => {
    const cfg3 = parseConfig(testConfigYaml().replace('every: 1h', 'every: 1s'), {});
    const t3 = await startTestApp({
      apiRoot: kit.apiRoot,
      token: kit.token,
      config: cfg3,
      polling: false,
    });
    try {
      expect(
        (await post(`${t3.url}/hooks/heartbeat/backups`, undefined, 'bad-token-000')).status,
      ).toBe(401);
      expect((await post(`${t3.url}/hooks/heartbeat/backups`, '', TOKENS.backups)).status).toBe(
        202,
      );
      const inc = await kit.waitFor(
        async () =>
          (await t3.app.services.repo.listOpen()).find(
            (i) => i.title === 'No heartbeat from backups',
          ),
        { timeoutMs: 20_000 },
      );
      expect(inc.severity).toBe('P1');
      await post(`${t3.url}/hooks/heartbeat/backups`, '', TOKENS.backups);
      expect((await t3.app.services.repo.get(inc.id))?.state).toBe('resolved');
    } finally {
      await t3.stop();
      await dropPrefix(t3.prefix);
    }
  });

  it('maintenance suppresses notification and escalation of matching incidents, still recorded', async () => {
    const root = kit.user({ id: PEOPLE.root, chatId: GROUP, chatType: 'supergroup' });
    await root.command('/maintenance 1h service=db planned upgrade');
    await kit.waitForMessage(
      (m) => m.text.includes('Maintenance') && m.text.includes('service=db'),
    );
    const r = await post(
      `${t.url}/hooks/generic`,
      {
        title: 'db down during upgrade',
        status: 'firing',
        labels: { service: 'db' },
        severity: 'critical',
      },
      TOKENS.ci,
    );
    const id = (r.body.incidents as string[])[0]!;
    expect(await t.app.services.repo.get(id)).toMatchObject({ silenced: true, state: 'triggered' });
    await root.command('/status');
    await kit.waitForMessage(
      (m) => m.text.includes('opsbot status') && m.text.includes('Maintenance until'),
    );
    expect(await escalations(id)).toHaveLength(0);
  });
});
