import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { parseConfig, type OpsbotConfig } from '../../src/config.js';
import { post, startTestApp, type TestApp } from '../helpers/app.js';
import { GROUP, TOKENS, testConfigYaml } from '../helpers/config.js';
import { dropPrefix, freshPrefix } from '../helpers/redis.js';
import { startTelegram, type TelegramKit } from '../helpers/telegram.js';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local HTTP receiver: records every request and answers the queued statuses (then 200). */
async function startReceiver() {
  const seen: Seen[] = [];
  const queue: number[] = [];
  let always: number | undefined;
  let location = '';
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const status = queue.shift() ?? always ?? 200;
      res.writeHead(status, status >= 300 && status < 400 ? { location } : {});
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    answer: (...statuses: number[]) => queue.push(...statuses),
    always: (s: number | undefined) => (always = s),
    redirectTo: (to: string) => (location = to),
    reset() {
      seen.length = 0;
      queue.length = 0;
      always = undefined;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let kit: TelegramKit;
let rx: Awaited<ReturnType<typeof startReceiver>>;
let other: Awaited<ReturnType<typeof startReceiver>>;
let config: OpsbotConfig;
const clock = new FakeClock(Date.parse('2026-03-02T10:00:00Z'));
const apps: TestApp[] = [];
const prefix = freshPrefix('notifiers');

beforeAll(async () => {
  kit = await startTelegram({ storeTimeout: 3600 });
  rx = await startReceiver();
  other = await startReceiver();
  const yaml = testConfigYaml({
    levels: `      - { after: 0s, notify: ["chat:ops", "webhook:phone"] }
      - { after: 1h, notify: ["person:root", "webhook:sms"] }`,
    extra: `notifiers:
  phone:
    kind: webhook
    url: ${rx.url}/oncall
    headers: { Authorization: "Bearer \${NTFY_TOKEN}", Priority: "5" }
    body: '{"incident":"{{id}}","title":"{{title}}","severity":"{{severity}}","level":{{level}}}'
  sms:
    kind: webhook
    url: ${rx.url}/sms
    headers: { Content-Type: application/x-www-form-urlencoded }
    body: 'To=%2B15550100&Body={{id}} {{title}} ({{people}})'
  bounce:
    kind: webhook
    url: ${rx.url}/bounce`,
  });
  config = parseConfig(yaml, { NTFY_TOKEN: 'ntfy-secret-1' });
  // two replicas on one Redis share the fake clock
  for (let i = 0; i < 2; i++)
    apps.push(
      await startTestApp({
        apiRoot: kit.apiRoot,
        token: kit.token,
        config,
        prefix,
        clock,
        polling: false,
      }),
    );
});
afterAll(async () => {
  for (const a of apps) await a.stop();
  await kit?.stop();
  await rx?.close();
  await other?.close();
  await dropPrefix(prefix);
});
beforeEach(async () => {
  // each test starts with no open incidents and no delivery in flight
  const s = apps[0]!.app.services;
  for (const inc of await s.repo.listOpen()) await s.actions.resolve(inc.id, 'test');
  for (const a of apps) await a.app.services.escalation.drainWebhooks();
  rx.reset();
  other.reset();
});

const repo = () => apps[0]!.app.services.repo;
async function fire(title: string) {
  const r = await post(
    `${apps[0]!.url}/hooks/generic`,
    { title, status: 'firing', severity: 'error', dedup_key: title },
    TOKENS.ci,
  );
  return (r.body.incidents as string[])[0]!;
}
const hookEntries = async (id: string) =>
  (await repo().timeline(id)).filter((e) => e.type === 'webhook').map((e) => e.text);
const waitEntries = (id: string, n: number, label: string) =>
  kit.waitFor(async () => ((await hookEntries(id)).length >= n ? hookEntries(id) : undefined), {
    label,
  });

describe('webhook notifiers as escalation targets', () => {
  it('a level calls its webhook once across replicas, with the body template JSON-escaped and env secrets', async () => {
    const id = await fire('disk "full"\non db-1');
    const entries = await waitEntries(id, 1, 'phone delivered');
    expect(entries).toEqual(['webhook phone → 200']);
    expect(rx.seen).toHaveLength(1);
    const req = rx.seen[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/oncall');
    expect(req.headers.authorization).toBe('Bearer ntfy-secret-1');
    expect(req.headers.priority).toBe('5');
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({
      incident: id,
      title: 'disk "full"\non db-1',
      severity: 'P1',
      level: 1,
    });
    // the chat was paged in the same level
    const inc = (await repo().get(id))!;
    expect(inc.paged).toEqual(['#ops', 'webhook phone']);
    await kit.waitFor(() => kit.okCalls('sendMessage', GROUP, id).length > 0, {
      label: 'chat post',
    });
    // both replicas' timer loops have had many chances: still one request
    for (const a of apps) await a.app.services.timers.runDue();
    expect(rx.seen).toHaveLength(1);
  });

  it('retries with backoff in fake time until it answers 2xx; the level stays paged meanwhile', async () => {
    rx.answer(503, 503);
    const id = await fire('retry me');
    await waitEntries(id, 1, 'first failure');
    expect(await hookEntries(id)).toEqual(['webhook phone → 503, retry in 5s']);
    expect((await repo().get(id))!.paged).toContain('webhook phone');
    clock.advance(4_000);
    for (const a of apps) await a.app.services.timers.runDue();
    expect(rx.seen).toHaveLength(1); // not due yet
    clock.advance(1_000);
    await waitEntries(id, 2, 'second failure');
    clock.advance(10_000);
    const entries = await waitEntries(id, 3, 'third attempt');
    expect(entries).toEqual([
      'webhook phone → 503, retry in 5s',
      'webhook phone → 503, retry in 10s',
      'webhook phone → 200',
    ]);
    expect(rx.seen).toHaveLength(3);
  });

  it('gives up 10 minutes after the level fired', async () => {
    rx.always(500);
    const id = await fire('never answers');
    let n = 1;
    await waitEntries(id, n, 'attempt 1');
    for (;;) {
      const last = (await hookEntries(id)).at(-1)!;
      if (/gave up/.test(last)) break;
      const secs = Number(/retry in (\d+)s/.exec(last)![1]);
      clock.advance(secs * 1000);
      n++;
      await waitEntries(id, n, `attempt ${n}`);
    }
    const entries = await hookEntries(id);
    expect(entries.at(-1)).toBe('webhook phone → 500, gave up after 9 attempts');
    expect(rx.seen).toHaveLength(9);
    // a level that paged stays paged
    expect((await repo().timeline(id)).filter((e) => e.type === 'escalated')).toHaveLength(1);
    expect((await repo().get(id))!.state).toBe('triggered');
  });

  it('stops retrying once the incident is acknowledged', async () => {
    rx.answer(502);
    const id = await fire('acked meanwhile');
    await waitEntries(id, 1, 'first failure');
    await apps[0]!.app.services.actions.acknowledge(id, 'alice');
    clock.advance(5_000);
    expect(await waitEntries(id, 2, 'stopped')).toEqual([
      'webhook phone → 502, retry in 5s',
      'webhook phone → not sent (acknowledged)',
    ]);
    expect(rx.seen).toHaveLength(1);
  });

  it('form bodies are URL-encoded; later levels call their own notifier', async () => {
    const id = await fire('a&b=c');
    await waitEntries(id, 1, 'phone');
    clock.advance(3_600_000);
    await waitEntries(id, 2, 'sms');
    // the 1h jump also makes the `backups` heartbeat overdue, which opens and pages an incident of
    // its own: only this incident's calls are counted
    const mine = rx.seen.filter((r) => decodeURIComponent(r.body).includes(id));
    expect(mine.map((r) => r.url)).toEqual(['/oncall', '/sms']);
    const sms = mine[1]!;
    expect(sms.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(sms.body).get('Body')).toBe(`${id} a&b=c (root)`);
    expect(new URLSearchParams(sms.body).get('To')).toBe('+15550100');
  });

  it('redirects are not followed: a 3xx is a failure and is not retried', async () => {
    other.reset();
    rx.redirectTo(`${other.url}/elsewhere`);
    rx.answer(302);
    const id = await fire('redirected');
    expect(await waitEntries(id, 1, 'redirect outcome')).toEqual([
      'webhook phone → 302, gave up after 1 attempt',
    ]);
    expect(other.seen).toHaveLength(0);
  });

  it('a pending retry survives a restart and is sent by the next process', async () => {
    rx.answer(503);
    const id = await fire('restart me');
    await waitEntries(id, 1, 'first failure');
    for (const a of apps.splice(0)) await a.stop();
    apps.push(
      await startTestApp({
        apiRoot: kit.apiRoot,
        token: kit.token,
        config,
        prefix,
        clock,
        polling: false,
      }),
    );
    clock.advance(5_000);
    expect((await waitEntries(id, 2, 'retried after restart')).at(-1)).toBe('webhook phone → 200');
    expect(rx.seen).toHaveLength(2);
  });
});
