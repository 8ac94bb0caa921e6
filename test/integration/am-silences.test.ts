import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import {
  startAlertmanager,
  webhookReceiver,
  type AlertmanagerKit,
  type AmSilenceView,
} from '../helpers/alertmanager.js';
import type { TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE, TOKENS, testConfigYaml } from '../helpers/config.js';
import { freePort } from '../helpers/process.js';
import type { BotMessage, TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let t: TestApp;
let am: AlertmanagerKit;

beforeAll(async () => {
  const amPort = await freePort();
  const config = parseConfig(
    testConfigYaml().replace(
      / {2}prometheus: \{[^\n]*\}\n/,
      `  prometheus: { kind: alertmanager, token: "${TOKENS.prometheus}", api_url: "http://127.0.0.1:${amPort}", api_auth: { bearer: "am-web-token-123" }, silence_on_ack: true }\n`,
    ),
    {},
  );
  ({ kit, t } = await build({ storeTimeout: 3600, config }));
  am = await startAlertmanager({
    port: amPort,
    receivers: webhookReceiver(t.url, TOKENS.prometheus),
  });
}, 60_000);
afterAll(async () => {
  await am?.stop();
});

const u = (id: number) => kit.user({ id, name: `u${id}`, chatId: GROUP, chatType: 'supergroup' });
const alice = () => u(PEOPLE.alice);
const bob = () => u(PEOPLE.bob);

/** Fires one alert through Alertmanager and waits for its incident message in the group. */
async function fire(alertname: string, labels: Record<string, string> = {}) {
  await am.postAlerts([
    {
      labels: { alertname, severity: 'warning', instance: `${alertname}-1`, ...labels },
      annotations: { summary: `${alertname} summary` },
      startsAt: new Date().toISOString(),
    },
  ]);
  const inc = await kit.waitFor(
    async () =>
      (await t.app.services.repo.listOpen()).find((i) => i.labels.alertname === alertname),
    { timeoutMs: 20_000, label: `incident ${alertname} from Alertmanager` },
  );
  const msg = await kit.waitForMessage(
    (m) => m.chatId === GROUP && m.text.includes(`<code>${inc.id}</code>`) && m.buttons.length > 0,
    { label: `message of ${inc.id}` },
  );
  return { inc, msg };
}

async function press(who: () => ReturnType<typeof u>, m: BotMessage, data: string) {
  const n = kit.answers().length;
  await who().press(m.messageId, data);
  return kit.waitFor(() => kit.answers()[n], { label: `answer to ${data}` });
}

const amSilence = (pred: (s: AmSilenceView) => boolean, label: string) =>
  kit.waitFor(async () => (await am.silences()).find(pred), { timeoutMs: 15_000, label });
const byMatcher = (name: string, value: string) => (s: AmSilenceView) =>
  s.matchers.some((m) => m.name === name && m.value === value);
const stateOf = async (id: string) => (await am.silences()).find((s) => s.id === id)?.status.state;

describe('Alertmanager silences from opsbot (real Alertmanager)', () => {
  it('the Silence button creates one on the group labels with createdBy; Unsilence expires it', async () => {
    const { inc, msg } = await fire('AmButton', { service: 'api-btn' });
    const ans = await press(bob, msg, `i:s1h:${inc.seq}`);
    expect(String(ans.text)).toMatch(/silenced/);
    // opsbot's own silence applies at once
    expect((await t.app.services.repo.get(inc.id))!.silencedUntil).toBeGreaterThan(Date.now());
    const sil = await amSilence(
      (s) => byMatcher('alertname', 'AmButton')(s) && s.status.state === 'active',
      'Alertmanager silence of the group',
    );
    // the group labels (group_by: [alertname]), not the alert's own labels
    expect(sil.matchers).toEqual([
      { name: 'alertname', value: 'AmButton', isRegex: false, isEqual: true },
    ]);
    expect(sil.createdBy).toBe(`bob (@u${PEOPLE.bob})`);
    expect(sil.comment).toContain(inc.id);
    expect(sil.comment).toContain(`https://t.me/c/1000000001/${msg.messageId}`);
    const endsIn = Date.parse(sil.endsAt) - Date.now();
    expect(endsIn).toBeGreaterThan(3_500_000);
    expect(endsIn).toBeLessThanOrEqual(3_600_000);
    // the message now offers Unsilence
    const edited = await kit.waitForMessage(
      (m) =>
        m.messageId === msg.messageId &&
        m.buttons.flat().some((b) => b.data === `i:uns:${inc.seq}`),
      { label: 'Unsilence button' },
    );
    await press(bob, edited, `i:uns:${inc.seq}`);
    await kit.waitFor(async () => (await stateOf(sil.id)) === 'expired', {
      timeoutMs: 15_000,
      label: 'silence expired by Unsilence',
    });
    expect((await t.app.services.repo.get(inc.id))!.silencedUntil).toBeUndefined();
  });

  it('resolution does not expire the Silence button silence', async () => {
    const { inc, msg } = await fire('AmKeep');
    await press(alice, msg, `i:s4h:${inc.seq}`);
    const sil = await amSilence(
      (s) => byMatcher('alertname', 'AmKeep')(s) && s.status.state === 'active',
      'silence of AmKeep',
    );
    await alice().command(`/resolve ${inc.id}`);
    await kit.waitFor(async () => (await t.app.services.repo.get(inc.id))?.state === 'resolved');
    await t.app.services.timers.runDue();
    await t.app.services.amSilences.drain();
    expect(await stateOf(sil.id)).toBe('active');
  });

  it('silence_on_ack: Acknowledge creates one; resolving expires it', async () => {
    const { inc, msg } = await fire('AmAck');
    await press(alice, msg, `i:ack:${inc.seq}`);
    const sil = await amSilence(
      (s) => byMatcher('alertname', 'AmAck')(s) && s.status.state === 'active',
      'silence made by the acknowledgement',
    );
    expect(sil.createdBy).toBe(`alice (@u${PEOPLE.alice})`);
    expect(sil.comment).toContain(inc.id);
    await alice().command(`/resolve ${inc.id}`);
    await kit.waitFor(async () => (await stateOf(sil.id)) === 'expired', {
      timeoutMs: 15_000,
      label: 'ack silence expired on resolve',
    });
  });

  it('silence_on_ack: unacknowledging expires it too', async () => {
    const { inc, msg } = await fire('AmUnack');
    await press(alice, msg, `i:ack:${inc.seq}`);
    const sil = await amSilence(
      (s) => byMatcher('alertname', 'AmUnack')(s) && s.status.state === 'active',
      'silence made by the acknowledgement',
    );
    await alice().command(`/unack ${inc.id}`);
    await kit.waitFor(async () => (await stateOf(sil.id)) === 'expired', {
      timeoutMs: 15_000,
      label: 'ack silence expired on unack',
    });
  });

  it('/silence with matchers creates one after Confirm (operators translated); Expire expires it', async () => {
    await alice().command('/silence 2h service=~pay-.* env!=dev checkout deploy');
    const preview = await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes('Silence preview') && m.text.includes('pay-'),
    );
    expect(preview.text).toContain('Also silenced in Alertmanager: prometheus');
    const confirm = preview.buttons.flat().find((b) => b.data?.startsWith('sc:y:'))!.data!;
    await press(alice, preview, confirm);
    const sil = await amSilence(byMatcher('service', 'pay-.*'), '/silence in Alertmanager');
    expect(sil.status.state).toBe('active');
    expect(sil.matchers).toEqual(
      expect.arrayContaining([
        { name: 'service', value: 'pay-.*', isRegex: true, isEqual: true },
        { name: 'env', value: 'dev', isRegex: false, isEqual: false },
      ]),
    );
    expect(sil.createdBy).toBe(`alice (@u${PEOPLE.alice})`);
    expect(sil.comment).toContain('checkout deploy');
    // /silences shows it once (as opsbot's) with its Expire button, which expires it in Alertmanager
    await bob().command('/silences');
    const list = await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes('Active silences') && m.text.includes('pay-'),
    );
    expect(list.text.split('pay-.*').length - 1).toBe(1);
    const local = (await t.app.services.silences.active()).find((s) => s.matchers.service)!;
    await press(bob, list, `sx:${local.id}`);
    await kit.waitFor(async () => (await stateOf(sil.id)) === 'expired', {
      timeoutMs: 15_000,
      label: 'AM copy expired with the opsbot silence',
    });
  });

  it("/silences lists Alertmanager's own silences with an Expire button that expires them", async () => {
    const now = Date.now();
    const res = await fetch(`${am.url}/api/v2/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        matchers: [{ name: 'team', value: 'storage', isRegex: false, isEqual: true }],
        startsAt: new Date(now).toISOString(),
        endsAt: new Date(now + 3_600_000).toISOString(),
        createdBy: 'karma-user',
        comment: 'made in karma',
      }),
    });
    const { silenceID } = (await res.json()) as { silenceID: string };
    await bob().command('/silences');
    const list = await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes('karma-user'),
      { label: '/silences with the Alertmanager silence' },
    );
    expect(list.text).toContain('Alertmanager prometheus: team=storage');
    const data = `ax:${silenceID.replace(/-/g, '')}`;
    expect(list.buttons.flat().map((b) => b.data)).toContain(data);
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    // a viewer may not expire it
    const refused = await press(() => u(PEOPLE.viewer), list, data);
    expect(String(refused.text)).toMatch(/responder/);
    expect(await stateOf(silenceID)).toBe('active');
    const ans = await press(bob, list, data);
    expect(String(ans.text)).toMatch(/Expired/);
    expect(await stateOf(silenceID)).toBe('expired');
  });
});
