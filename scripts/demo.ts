/**
 * npm run demo — the whole loop against a local Bot API emulator, no Telegram account needed:
 * alert in → incident message with buttons → a viewer's refused press → escalation through two
 * levels → acknowledge stops it → note → /run disk-cleanup with a refused self-approval and an
 * approval → live step updates → status update → resolve; then a P0 in a war-room chat opens its own
 * forum topic, the talk there reaches the timeline, the first acknowledger becomes commander and
 * resolving closes the topic. Prints a transcript and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { buildApp } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startTelegram, type BotMessage } from '../test/helpers/telegram.js';

const GROUP = -1001000000001;
const LEADS = -1001000000002;
const WAR = -1001000000009;
const ALICE = 1001;
const BOB = 1002;
const ROOT = 1003;
const VIC = 1005;

const c = {
  dim: (s: string) => `\x1b[2m${s}\x1b[0m`,
  bold: (s: string) => `\x1b[1m${s}\x1b[0m`,
  cyan: (s: string) => `\x1b[36m${s}\x1b[0m`,
  green: (s: string) => `\x1b[32m${s}\x1b[0m`,
  yellow: (s: string) => `\x1b[33m${s}\x1b[0m`,
  magenta: (s: string) => `\x1b[35m${s}\x1b[0m`,
};
const plain = (html: string) =>
  html
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
const chatName = (id: number) =>
  id === GROUP
    ? '#ops'
    : id === LEADS
      ? '#leads'
      : id === WAR
        ? '#incidents'
        : id === ROOT
          ? 'DM root'
          : String(id);
const indent = (s: string) =>
  s
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');

function show(m: BotMessage, verb: string) {
  const where = `${chatName(m.chatId)}${m.threadId ? ` › topic ${m.threadId}` : ''}`;
  console.log(`${c.cyan(`  [bot → ${where}]`)} ${c.dim(`${verb} #${m.messageId}`)}`);
  console.log(indent(plain(m.text)));
  const rows = m.buttons.map((r) => r.map((b) => `[${b.text}]`).join(' ')).filter(Boolean);
  if (rows.length) console.log(c.yellow(indent(rows.join('\n'))));
}

function step(title: string) {
  console.log(`\n${c.bold(c.magenta(`▶ ${title}`))}`);
}

async function ensureRedis(): Promise<{ url: string; child?: ChildProcess }> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await probe.connect();
    await probe.ping();
    probe.disconnect();
    return { url };
  } catch {
    probe.disconnect();
    const port = 6399;
    console.log(c.dim(`(no Redis at ${url}: starting a throwaway redis-server on ${port})`));
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const u = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50; i++) {
      const r = new Redis(u, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      try {
        await r.connect();
        await r.ping();
        r.disconnect();
        return { url: u, child };
      } catch {
        r.disconnect();
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    throw new Error('could not start redis-server; install Redis or set REDIS_URL');
  }
}

async function main() {
  const { url: redisUrl, child } = await ensureRedis();
  const kit = await startTelegram({ storeTimeout: 3600 });
  const prefix = `opsbot-demo:${Date.now()}:`;
  const demoDir = '/tmp/opsbot-demo';
  mkdirSync(demoDir, { recursive: true });
  writeFileSync(path.join(demoDir, 'app-old.tmp'), 'stale temp file\n');
  const config = parseConfig(
    `
chats:
  ops: { id: ${GROUP} }
  leads: { id: ${LEADS}, thread_id: 7 }
  incidents: { id: ${WAR}, war_room: { topics: true, min_severity: P1 } }
people:
  alice: { telegram_id: ${ALICE}, roles: [responder, approver] }
  bob: { telegram_id: ${BOB}, roles: [responder] }
  root: { telegram_id: ${ROOT}, roles: [admin] }
schedules:
  primary: { rotation: { start: "2026-01-05T09:00:00Z", shift: 7d, members: [bob, alice] } }
escalation_policies:
  critical:
    levels:
      - { after: 0s, notify: ["chat:ops"] }
      - { after: 3s, notify: ["person:root"] }
      - { after: 6s, notify: ["chat:leads"] }
severities:
  P0: { ack_within: 15m, update_every: 30m, policy: critical }
  P1: { ack_within: 1h, update_every: 30m, policy: critical }
  P2: { ack_within: 4h, policy: critical }
  P3: { ack_within: 1d, policy: critical }
routes:
  - { match: { team: payments }, chat: incidents }
  - { chat: ops }
integrations:
  prometheus: { kind: alertmanager, token: demo-prometheus-token }
runbooks_dir: ${path.resolve('commands')}
outbox: { per_chat_interval: 200ms }
`,
    {},
  );
  const app = buildApp({
    config,
    env: {
      botToken: kit.token,
      apiRoot: kit.apiRoot,
      redisUrl,
      redisPrefix: prefix,
      httpHost: '127.0.0.1',
      httpPort: 0,
    },
    logger: createLogger('silent'),
    defaultMetrics: false,
    progressIntervalMs: 300,
    pollMs: 50,
  });
  await app.start();
  const addr = app.http.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const seen = new Map<number, string>();
  const sync = async (label?: string) => {
    for (const m of kit.botMessages()) {
      const sig = m.text + JSON.stringify(m.buttons);
      const prev = seen.get(m.messageId);
      if (prev === sig) continue;
      seen.set(m.messageId, sig);
      show(m, prev === undefined ? 'sent' : 'edited');
    }
    if (label) console.log(c.dim(`  (${label})`));
  };
  const waitMsg = (pred: (m: BotMessage) => boolean, label: string) =>
    kit.waitForMessage(pred, { label, timeoutMs: 20_000 });
  const group = (id: number, name: string) =>
    kit.user({ id, name, chatId: GROUP, chatType: 'supergroup', chatTitle: 'ops' });
  const alice = group(ALICE, 'alice');
  const bob = group(BOB, 'bob');
  const vic = group(VIC, 'vic');

  console.log(c.bold('opsbot demo — a Telegram on-call loop against a local Bot API emulator\n'));
  try {
    step(
      'Root opens a private chat with the bot: it can page him there, and new incidents reach it too',
    );
    await kit.user({ id: ROOT, name: 'root', chatId: ROOT, chatType: 'private' }).command('/start');
    await waitMsg((m) => m.chatId === ROOT, 'start reply');
    await sync();

    step('Alertmanager fires: HighApiErrorRate (seed 003: API error rate > 5%)');
    const payload = {
      version: '4',
      groupKey: '{}:{alertname="HighApiErrorRate"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'opsbot',
      groupLabels: { alertname: 'HighApiErrorRate' },
      commonLabels: { alertname: 'HighApiErrorRate', severity: 'critical', service: 'api' },
      commonAnnotations: { summary: 'API error rate above 5%' },
      externalURL: 'http://alertmanager.local:9093',
      alerts: [
        {
          status: 'firing',
          labels: {
            alertname: 'HighApiErrorRate',
            severity: 'critical',
            service: 'api',
            instance: 'api-1:8080',
          },
          annotations: {
            summary: 'API error rate above 5%',
            description: '7.3% of requests return 5xx over the last 5 minutes',
            runbook_url: 'https://runbooks.local/api-errors',
          },
          startsAt: new Date().toISOString(),
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'http://prometheus.local:9090/graph',
          fingerprint: 'a1b2c3d4',
        },
      ],
    };
    const res = await fetch(`${base}/hooks/alertmanager`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer demo-prometheus-token',
      },
      body: JSON.stringify(payload),
    });
    console.log(
      `  ${c.green('[alertmanager]')} POST /hooks/alertmanager → ${res.status} ${await res.text()}`,
    );
    const incMsg = await waitMsg(
      (m) => m.chatId === GROUP && m.text.includes('INC-1'),
      'incident message',
    );
    await sync();

    step('Vic (a viewer) taps Acknowledge: refused, the role is named');
    await vic.press(incMsg.messageId, 'i:ack:1');
    const refusal = await kit.waitFor(
      () => kit.answers().find((a) => /responder/.test(String(a.text ?? ''))),
      { label: 'refusal' },
    );
    console.log(`  ${c.yellow('[vic taps ✅ Acknowledge]')} → "${refusal.text}"`);

    step('Nobody acknowledges: level 2 pages root by DM after 3 s');
    await waitMsg(
      (m) => m.chatId === ROOT && m.text.includes('INC-1') && /You are paged/.test(m.text),
      'root paged',
    );
    await kit.waitFor(
      () =>
        kit
          .botMessages(GROUP)
          .find((m) => m.messageId === incMsg.messageId && /Level 2/.test(m.text)),
      { label: 'level 2 shown' },
    );
    await sync('the group message shows the level and who was paged');

    step('Alice taps Acknowledge: escalation stops, everyone sees who took it');
    await alice.press(incMsg.messageId, 'i:ack:1');
    await kit.waitFor(
      () =>
        kit
          .botMessages(GROUP)
          .find((m) => m.messageId === incMsg.messageId && /Acknowledged by/.test(m.text)),
      { label: 'ack edit' },
    );
    await sync();
    const ans = kit.answers().at(-1);
    console.log(`  ${c.yellow('[alice taps ✅ Acknowledge]')} → "${ans?.text ?? ''}"`);

    step('Alice adds a note');
    await alice.command('/note INC-1 5xx come from api-1 only; disk on api-1 is full');
    // a note is acknowledged with a 👍 reaction on the command, not a new message in a busy group
    const reaction = await kit.waitFor(
      () => kit.callsOf('setMessageReaction').find((r) => r.body.chat_id === GROUP),
      { label: 'note reaction' },
    );
    console.log(
      `  ${c.yellow('[bot reacts to the /note]')} ${JSON.stringify(reaction.body.reaction)}`,
    );
    await sync();

    step('Alice asks for the disk cleanup runbook (needs one approver other than her)');
    await alice.command(`/run disk-cleanup service=api days=0 dir=${demoDir} INC-1`);
    const req = await waitMsg(
      (m) => m.chatId === GROUP && m.text.includes('disk-cleanup') && m.buttons.length > 0,
      'approval request',
    );
    await sync();
    const approve = req.buttons[0]![0]!.data!;

    step('Alice tries to approve her own request: refused');
    await alice.press(req.messageId, approve);
    const self = await kit.waitFor(
      () => kit.answers().find((a) => /own request/.test(String(a.text ?? ''))),
      { label: 'self approval' },
    );
    console.log(`  ${c.yellow('[alice taps ✅ Approve]')} → "${self.text}"`);

    step('Root approves: the steps run, the message updates live');
    await kit
      .user({ id: ROOT, name: 'root', chatId: GROUP, chatType: 'supergroup' })
      .press(req.messageId, approve);
    await kit.waitFor(
      () =>
        kit
          .botMessages(GROUP)
          .find((m) => m.messageId === req.messageId && /Finished|Failed|Timed out/.test(m.text)),
      { label: 'run result' },
    );
    await sync();

    step('Bob posts a status update (seed 003 template)');
    await bob.command(
      '/update INC-1 Identified: temp files filled /tmp on api-1; cleaned up, monitoring error rate',
    );
    await waitMsg((m) => m.chatId === GROUP && m.text.includes('Identified ·'), 'update');
    await sync();

    step('The alert resolves in Alertmanager: the message shows resolved and loses its buttons');
    payload.status = 'resolved';
    payload.alerts[0]!.status = 'resolved';
    await fetch(`${base}/hooks/alertmanager`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer demo-prometheus-token',
      },
      body: JSON.stringify(payload),
    });
    await kit.waitFor(
      () =>
        kit
          .botMessages(GROUP)
          .find((m) => m.messageId === incMsg.messageId && /RESOLVED/.test(m.text)),
      { label: 'resolved edit' },
    );
    await sync();

    step('A P0 resolution brings the post-emergency checklist (seed 001); Bob ticks an item');
    const ck = await waitMsg(
      (m) => m.chatId === GROUP && m.text.includes('Post-emergency checklist'),
      'checklist',
    );
    await bob.press(ck.messageId, ck.buttons[0]![0]!.data!);
    await kit.waitFor(
      () =>
        kit.botMessages(GROUP).find((m) => m.messageId === ck.messageId && m.text.includes('1/15')),
      { label: 'tick' },
    );
    await sync();

    step('Alice asks for the postmortem draft (seeds 002/004 template, built from the timeline)');
    await alice.command('/postmortem INC-1');
    // a real document (sendDocument), as a team would download it from the chat
    const pm = await kit.waitFor(
      () =>
        kit.files.find(
          (f) =>
            f.method === 'sendDocument' &&
            f.chatId === GROUP &&
            /postmortem/.test(f.filename ?? ''),
        ),
      { label: 'postmortem document' },
    );
    console.log(`  ${c.cyan('[bot → #ops]')} ${c.dim('document')} ${pm.filename}`);
    for (const line of (pm.bytes?.toString('utf8') ?? '').split('\n').slice(0, 14))
      console.log(`      ${line}`);
    await sync();

    step('War room: a P0 for the payments team opens its own forum topic in #incidents');
    const war = (id: number, name: string) =>
      kit.user({ id, name, chatId: WAR, chatType: 'supergroup', chatTitle: 'incidents' });
    const pay = {
      ...payload,
      status: 'firing',
      groupKey: '{}:{alertname="PaymentsDown"}',
      groupLabels: { alertname: 'PaymentsDown' },
      commonLabels: { alertname: 'PaymentsDown', severity: 'critical', team: 'payments' },
      commonAnnotations: { summary: 'Card payments failing' },
      alerts: [
        {
          ...payload.alerts[0]!,
          status: 'firing',
          labels: { alertname: 'PaymentsDown', severity: 'critical', team: 'payments' },
          annotations: {
            summary: 'Card payments failing',
            description: 'checkout returns 502 for 40% of card payments',
            runbook_url: 'https://runbooks.local/payments',
          },
          fingerprint: 'e5f6a7b8',
        },
      ],
    };
    const post = (body: unknown) =>
      fetch(`${base}/hooks/alertmanager`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer demo-prometheus-token',
        },
        body: JSON.stringify(body),
      });
    await post(pay);
    const warCard = await waitMsg(
      (m) => m.chatId === WAR && m.threadId !== undefined && m.text.includes('INC-2'),
      'war-room card',
    );
    const thread = warCard.threadId!;
    await waitMsg((m) => m.chatId === WAR && m.text.includes('war room'), 'pointer in General');
    const topic = () => kit.topics.get(WAR)?.find((x) => x.message_thread_id === thread);
    console.log(
      `  ${c.green('[telegram]')} createForumTopic → topic ${thread} "${topic()?.name}" (colour #${topic()?.icon_color.toString(16)})`,
    );
    await sync('the card is in the topic; General has a one-line pointer');

    step('Bob writes in the topic: it goes on the incident timeline');
    const bobW = war(BOB, 'bob');
    const aliceW = war(ALICE, 'alice');
    await bobW.say('checkout pods restarting; payment provider status page is green', { thread });
    await kit.waitFor(
      async () => (await app.services.repo.timeline('INC-2')).some((e) => e.type === 'chat'),
      { label: 'conversation on the timeline' },
    );
    console.log(`  ${c.yellow('[bob in the topic]')} checkout pods restarting; …`);

    step('Bob types /ack in the topic (no id needed): he is the first, so he becomes commander');
    await bobW.command('/ack', { thread });
    await kit.waitFor(
      () =>
        kit
          .botMessages(WAR)
          .find((m) => m.messageId === warCard.messageId && /Commander: bob/.test(m.text)),
      { label: 'commander on the card' },
    );
    await aliceW.command('/role comms alice', { thread });
    await waitMsg((m) => m.chatId === WAR && /Comms is now alice/.test(m.text), 'role');
    await sync();

    step('Alice resolves in the topic: the topic closes and is renamed ✅');
    await aliceW.command('/resolve rolled back the checkout deploy', { thread });
    await kit.waitFor(() => topic()?.closed, { label: 'topic closed' });
    console.log(
      `  ${c.green('[telegram]')} closeForumTopic, editForumTopic → "${topic()?.name}" (closed)`,
    );
    await sync();

    step('Timeline of INC-2 (war room)');
    for (const e of await app.services.repo.timeline('INC-2')) {
      console.log(
        `  ${new Date(e.t).toISOString().slice(11, 19)} ${e.type.padEnd(20)} ${e.actor}${e.text ? ` — ${e.text}` : ''}`,
      );
    }

    step('Timeline of INC-1');
    for (const e of await app.services.repo.timeline('INC-1')) {
      console.log(
        `  ${new Date(e.t).toISOString().slice(11, 19)} ${e.type.padEnd(20)} ${e.actor}${e.text ? ` — ${e.text}` : ''}`,
      );
    }
    console.log(c.green('\n✔ demo complete'));
  } finally {
    await app.stop();
    await kit.stop();
    const r = new Redis(redisUrl);
    const ks = await r.keys(`${prefix}*`);
    if (ks.length) await r.del(...ks);
    r.disconnect();
    child?.kill();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
