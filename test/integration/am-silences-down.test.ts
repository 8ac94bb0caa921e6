import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config.js';
import {
  startAlertmanager,
  webhookReceiver,
  type AlertmanagerKit,
} from '../helpers/alertmanager.js';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, PEOPLE, TOKENS, testConfigYaml } from '../helpers/config.js';
import { freePort } from '../helpers/process.js';
import type { TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let t: TestApp;
let am: AlertmanagerKit | undefined;
let amPort: number;
// a little behind real time, so silences made after fake advances still start in Alertmanager's past
const clock = new FakeClock(Date.now() - 10 * 60_000);

beforeAll(async () => {
  amPort = await freePort();
  const config = parseConfig(
    testConfigYaml().replace(
      / {2}prometheus: \{[^\n]*\}\n/,
      `  prometheus: { kind: alertmanager, token: "${TOKENS.prometheus}", api_url: "http://127.0.0.1:${amPort}" }\n`,
    ),
    {},
  );
  ({ kit, t } = await build({ storeTimeout: 3600, config, clock }));
});
afterAll(async () => {
  await am?.stop();
});

const alice = () =>
  kit.user({ id: PEOPLE.alice, name: `u${PEOPLE.alice}`, chatId: GROUP, chatType: 'supergroup' });
const NOTICE = 'Alertmanager unreachable, silence kept in opsbot and retried';
const notices = () => kit.okCalls('sendMessage', GROUP, NOTICE);

/** Runs due timers and waits for the Alertmanager calls they started. */
async function tick(ms: number) {
  clock.advance(ms);
  await t.app.services.timers.runDue();
  await t.app.services.amSilences.drain();
}

describe('Alertmanager down', () => {
  it('keeps the silence in opsbot, tells the chat once, retries with backoff and creates it once Alertmanager is back', async () => {
    // an Alertmanager webhook as Alertmanager sends it (Alertmanager itself is down)
    const r = await post(
      `${t.url}/hooks/alertmanager`,
      {
        version: '4',
        groupKey: '{}:{alertname="DownTest"}',
        status: 'firing',
        receiver: 'opsbot',
        groupLabels: { alertname: 'DownTest' },
        commonLabels: { alertname: 'DownTest', severity: 'warning' },
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'DownTest', severity: 'warning', instance: 'd1' },
            annotations: { summary: 'down test' },
            startsAt: new Date(clock.now()).toISOString(),
            fingerprint: 'f00d',
          },
        ],
      },
      TOKENS.prometheus,
    );
    expect(r.status).toBe(202);
    const id = (r.body.incidents as string[])[0]!;
    const inc = (await t.app.services.repo.get(id))!;
    const msg = await kit.waitForMessage(
      (m) => m.chatId === GROUP && m.text.includes(`<code>${id}</code>`) && m.buttons.length > 0,
    );
    const n = kit.answers().length;
    await alice().press(msg.messageId, `i:s1h:${inc.seq}`);
    await kit.waitFor(() => kit.answers()[n]);
    // opsbot's own silence applies at once
    expect((await t.app.services.repo.get(id))!.silencedUntil).toBe(clock.now() + 3_600_000);
    // the first attempt fails at once; the chat is told (outbox pacing: one message a second per chat)
    await tick(1_000);
    // the outbox paces one message a second per chat (fake time): move time on while waiting
    await kit.waitFor(
      () => {
        clock.advance(1_000);
        return notices().length === 1;
      },
      { label: 'one notice' },
    );
    // retries (5s, 10s, 20s backoff) while it stays down: no second notice
    await tick(5_000);
    await tick(10_000);
    await tick(20_000);
    await kit.waitFor(async () => (await t.app.services.outbox.depth()) === 0, {
      label: 'outbox empty',
    });
    expect(notices()).toHaveLength(1);
    const tl = await t.app.services.repo.timeline(id);
    expect(tl.some((e) => e.type === 'am-silence')).toBe(false);

    am = await startAlertmanager({
      port: amPort,
      receivers: webhookReceiver(t.url, TOKENS.prometheus),
    });
    expect(await am.silences()).toEqual([]);
    await tick(40_000);
    const sils = await am.silences();
    expect(sils).toHaveLength(1);
    expect(sils[0]!.matchers).toEqual([
      { name: 'alertname', value: 'DownTest', isRegex: false, isEqual: true },
    ]);
    expect(sils[0]!.createdBy).toBe(`alice (@u${PEOPLE.alice})`);
    // created once: later timers do not add another
    await tick(300_000);
    expect(await am.silences()).toHaveLength(1);
    expect(notices()).toHaveLength(1);
  });
});
