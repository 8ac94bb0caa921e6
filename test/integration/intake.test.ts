import { beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { GROUP, LEADS, TOKENS } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

let kit: TelegramKit;
let t: TestApp;

beforeAll(async () => {
  ({ kit, t } = await build({ storeTimeout: 3600, polling: false }));
});

function amPayload(
  group: string,
  alerts: {
    name: string;
    status?: 'firing' | 'resolved';
    fp: string;
    labels?: Record<string, string>;
  }[],
  status: 'firing' | 'resolved' = 'firing',
) {
  return {
    version: '4',
    groupKey: `{}:{alertname="${group}"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'opsbot',
    groupLabels: { alertname: group },
    commonLabels: { alertname: group, severity: 'critical' },
    commonAnnotations: {},
    externalURL: 'http://am.local:9093',
    alerts: alerts.map((a) => ({
      status: a.status ?? 'firing',
      labels: { alertname: group, severity: 'critical', instance: a.fp, ...a.labels },
      annotations: {
        summary: `${group} on ${a.fp}`,
        description: '<script>alert(1)</script> & more',
        runbook_url: 'https://rb.local/x',
      },
      startsAt: '2026-11-24T10:00:00Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prom.local/graph?g0.expr=up',
      fingerprint: a.fp,
    })),
  };
}

const storedKeys = async () => (await t.app.services.redis.keys(`${t.prefix}inc:*`)).length;

describe('alert intake over HTTP', () => {
  it('401 without a valid token, nothing stored', async () => {
    const body = amPayload('NoAuth', [{ name: 'x', fp: 'f0' }]);
    expect((await post(`${t.url}/hooks/alertmanager`, body)).status).toBe(401);
    expect((await post(`${t.url}/hooks/alertmanager`, body, 'wrong-token-xxxx')).status).toBe(401);
    // a token of another kind does not open this door
    expect((await post(`${t.url}/hooks/alertmanager`, body, TOKENS.grafana)).status).toBe(401);
    expect(await storedKeys()).toBe(0);
  });

  it('400 with path-level issues for bad bodies, 413 when too large; nothing half-stored', async () => {
    const bad = await post(
      `${t.url}/hooks/alertmanager`,
      { version: '4', alerts: [{ status: 'burning' }] },
      TOKENS.prometheus,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBeTruthy();
    expect(Array.isArray(bad.body.issues)).toBe(true);
    expect((bad.body.issues as { path: string }[])[0]!.path).toMatch(/alerts|groupKey|status/);
    const notJson = await post(`${t.url}/hooks/alertmanager`, '{"version": ', TOKENS.prometheus);
    expect(notJson.status).toBe(400);
    const huge = await post(
      `${t.url}/hooks/generic`,
      { title: 'x'.repeat(1024 * 1024 + 10), status: 'firing' },
      TOKENS.ci,
    );
    expect(huge.status).toBe(413);
    expect(await storedKeys()).toBe(0);
  });

  it('202 once stored; the same alert twice is one incident and one message; resolve edits it and drops the buttons', async () => {
    const body = amPayload('HighApiErrorRate', [{ name: 'a', fp: 'f1' }]);
    const r1 = await post(`${t.url}/hooks/alertmanager`, body, TOKENS.prometheus);
    expect(r1.status).toBe(202);
    expect(r1.body).toEqual({ accepted: 1, incidents: ['INC-1'] });
    expect(await t.app.services.repo.get('INC-1')).toMatchObject({
      state: 'triggered',
      severity: 'P0',
    });
    const r2 = await post(`${t.url}/hooks/alertmanager`, body, TOKENS.prometheus);
    expect(r2.body).toEqual({ accepted: 1, incidents: ['INC-1'] });
    const msg = await kit.waitForMessage((m) => m.chatId === GROUP && m.text.includes('INC-1'));
    expect(msg.text).toContain('&lt;script&gt;'); // escaped HTML
    expect(msg.parseMode).toBe('HTML');
    const datas = msg.buttons.flat().map((b) => b.data);
    expect(datas).toEqual(expect.arrayContaining(['i:ack:1', 'i:res:1', 'i:esc:1', 'i:sil:1']));
    for (const d of datas) expect(Buffer.byteLength(d ?? '')).toBeLessThanOrEqual(64);
    // a second alert in the group edits the same message
    await post(
      `${t.url}/hooks/alertmanager`,
      amPayload('HighApiErrorRate', [
        { name: 'a', fp: 'f1' },
        { name: 'b', fp: 'f2' },
      ]),
      TOKENS.prometheus,
    );
    await kit.waitFor(
      () =>
        kit.botMessages(GROUP).find((m) => m.messageId === msg.messageId && /2 alert/.test(m.text)),
      { label: 'second alert edit' },
    );
    const resolved = amPayload(
      'HighApiErrorRate',
      [
        { name: 'a', fp: 'f1', status: 'resolved' },
        { name: 'b', fp: 'f2', status: 'resolved' },
      ],
      'resolved',
    );
    expect((await post(`${t.url}/hooks/alertmanager`, resolved, TOKENS.prometheus)).status).toBe(
      202,
    );
    const edited = await kit.waitFor(
      () =>
        kit
          .botMessages(GROUP)
          .find((m) => m.messageId === msg.messageId && /RESOLVED/.test(m.text)),
      { label: 'resolved edit' },
    );
    expect(edited.text).toMatch(/lasted/);
    expect(edited.buttons.flat().map((b) => b.data)).not.toContain('i:ack:1');
    expect(
      kit.botMessages(GROUP).filter((m) => m.text.includes('INC-1 ') || m.text.includes('INC-1<'))
        .length,
    ).toBeLessThanOrEqual(1);
    expect(
      kit.callsOf('sendMessage').filter((c) => JSON.stringify(c.body).includes('INC-1')).length,
    ).toBe(1);
  });

  it('routes by labels into a forum topic', async () => {
    const r = await post(
      `${t.url}/hooks/generic`,
      { title: 'Leads only', status: 'firing', labels: { team: 'leads' }, severity: 'warning' },
      TOKENS.ci,
    );
    expect(r.status).toBe(202);
    const id = (r.body.incidents as string[])[0]!;
    const sent = await kit.waitFor(() =>
      kit.callsOf('sendMessage').find((c) => JSON.stringify(c.body).includes(id)),
    );
    expect(Number((sent.body as { chat_id: number }).chat_id)).toBe(LEADS);
    expect(Number((sent.body as { message_thread_id: number }).message_thread_id)).toBe(7);
  });

  it('grafana and generic arrays dedup by fingerprint / dedup_key', async () => {
    const g = {
      receiver: 'opsbot',
      status: 'firing',
      orgId: 1,
      groupKey: 'g',
      groupLabels: {},
      commonLabels: {},
      commonAnnotations: {},
      externalURL: 'http://grafana.local',
      version: '1',
      title: '[FIRING:1] DB CPU',
      state: 'alerting',
      message: 'db cpu',
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'HighDatabaseCPU', severity: 'warning' },
          annotations: { summary: 'DB CPU > 80%' },
          startsAt: '2026-11-24T10:00:00Z',
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: 'http://grafana.local/alerting/1',
          fingerprint: 'gf1',
          silenceURL: '',
          dashboardURL: '',
          panelURL: '',
          values: {},
        },
      ],
    };
    const a = await post(`${t.url}/hooks/grafana`, g, TOKENS.grafana);
    const b = await post(`${t.url}/hooks/grafana`, g, TOKENS.grafana);
    expect(a.status).toBe(202);
    expect(a.body.incidents).toEqual(b.body.incidents);
    const gen = [
      {
        title: 'Queue depth > 1000',
        status: 'firing',
        dedup_key: 'queue-depth',
        severity: 'critical',
      },
      {
        title: 'Queue depth > 1000',
        status: 'firing',
        dedup_key: 'queue-depth',
        severity: 'critical',
      },
    ];
    const c = await post(`${t.url}/hooks/generic`, gen, TOKENS.ci);
    expect(c.body.accepted).toBe(2);
    expect((c.body.incidents as string[]).length).toBe(1);
  });

  it('events v2: trigger, acknowledge, resolve answered like PagerDuty', async () => {
    const trig = await post(`${t.url}/v2/enqueue`, {
      routing_key: TOKENS.pd,
      event_action: 'trigger',
      dedup_key: 'login-failures',
      payload: { summary: 'High failed login rate', source: 'auth-1', severity: 'critical' },
    });
    expect(trig.status).toBe(202);
    expect(trig.body).toEqual({
      status: 'success',
      message: 'Event processed',
      dedup_key: 'login-failures',
    });
    const incs = await t.app.services.repo.listOpen();
    const inc = incs.find((i) => i.title === 'High failed login rate')!;
    expect(inc.severity).toBe('P0');
    await post(`${t.url}/v2/enqueue`, {
      routing_key: TOKENS.pd,
      event_action: 'acknowledge',
      dedup_key: 'login-failures',
    });
    expect((await t.app.services.repo.get(inc.id))?.state).toBe('acknowledged');
    await post(`${t.url}/v2/enqueue`, {
      routing_key: TOKENS.pd,
      event_action: 'resolve',
      dedup_key: 'login-failures',
    });
    expect((await t.app.services.repo.get(inc.id))?.state).toBe('resolved');
    const bad = await post(`${t.url}/v2/enqueue`, {
      routing_key: 'nope-nope-nope',
      event_action: 'trigger',
      payload: { summary: 'x', source: 'y', severity: 'info' },
    });
    expect(bad.status).toBe(401);
  });

  it('per-integration rate limit answers 429 with Retry-After', async () => {
    const r = await fetch(`${t.url}/hooks/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.ci}` },
      body: '[]',
    });
    expect(r.status).toBe(202);
    await t.app.services.redis.set(
      t.app.services.keys.rate(`ci:${Math.floor(Date.now() / 60_000)}`),
      '5000',
    );
    const limited = await post(
      `${t.url}/hooks/generic`,
      { title: 'x', status: 'firing' },
      TOKENS.ci,
    );
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('a burst over the rate limit, sent at once: exactly the requests under it are stored, the rest get 429', async () => {
    // a clock of its own: the burst stays in one window of the limit whatever the time
    const clock = new FakeClock(Date.parse('2026-03-02T10:00:10Z'));
    const { t: t2 } = await build({ kit, clock, polling: false });
    const window = Math.floor(clock.now() / 60_000);
    await t2.app.services.redis.set(t2.app.services.keys.rate(`ci:${window}`), '990');
    // 30 requests at once (they share script calls: group commit), one alert each, max 1000
    const res = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        post(
          `${t2.url}/hooks/generic`,
          { title: `burst ${i}`, status: 'firing', dedup_key: `burst-${i}` },
          TOKENS.ci,
        ),
      ),
    );
    const ok = res.filter((r) => r.status === 202);
    expect(ok).toHaveLength(10);
    expect(res.filter((r) => r.status === 429)).toHaveLength(20);
    // the 202s name their own incidents, and only those were stored
    const ids = ok.flatMap((r) => (r.body as { incidents: string[] }).incidents);
    expect(new Set(ids).size).toBe(10);
    const titles = (await t2.app.services.repo.getMany(ids)).map((i) => i.title);
    expect(titles.every((x) => x.startsWith('burst '))).toBe(true);
    expect(await t2.app.services.repo.countOpen()).toBe(10);
    // every request the script saw was counted; once one was refused, this replica refuses the rest
    // of the window in onRequest, before reading their bodies, without counting them
    const counted = Number(
      await t2.app.services.redis.get(t2.app.services.keys.rate(`ci:${window}`)),
    );
    expect(counted).toBeGreaterThanOrEqual(1001);
    expect(counted).toBeLessThanOrEqual(1020);
    // /metrics: requests stored per script call (the refused ones count too: the script saw them)
    const metrics = await (await fetch(`${t2.url}/metrics`)).text();
    const num = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1]);
    const sum = num('opsbot_intake_group_requests_sum');
    const calls = num('opsbot_intake_group_requests_count');
    expect(sum).toBe(counted - 990);
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(sum);
  });

  it('read API needs the api token and returns incidents with their timeline', async () => {
    const no = await fetch(`${t.url}/api/v1/incidents`);
    expect(no.status).toBe(401);
    const res = await fetch(`${t.url}/api/v1/incidents/INC-1`, {
      headers: { authorization: `Bearer ${TOKENS.api}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; timeline: { type: string }[] };
    expect(body.id).toBe('INC-1');
    expect(body.timeline.map((e) => e.type)).toContain('triggered');
    const open = (await (
      await fetch(`${t.url}/api/v1/incidents?state=open`, {
        headers: { authorization: `Bearer ${TOKENS.api}` },
      })
    ).json()) as { incidents: { state: string }[] };
    expect(open.incidents.every((i) => i.state !== 'resolved')).toBe(true);
  });

  it('health and metrics', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.url}/readyz`)).status).toBe(200);
    const m = await (await fetch(`${t.url}/metrics`)).text();
    expect(m).toContain('opsbot_alerts_received_total');
    expect(m).toContain('opsbot_http_requests_total');
    expect(m).toMatch(/opsbot_incidents_open\{severity="P0"\}/);
  });
});
