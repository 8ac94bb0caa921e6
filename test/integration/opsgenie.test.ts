import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import type { Incident } from '../../src/domain/incident.js';
import { startAlertmanager, type AlertmanagerKit } from '../helpers/alertmanager.js';
import { post, type TestApp } from '../helpers/app.js';
import { build } from '../helpers/build.js';
import { TOKENS, testConfigYaml } from '../helpers/config.js';
import type { TelegramKit } from '../helpers/telegram.js';

const OG_KEY = 'og-genie-key-123456';
const OTHER_KEY = 'og-other-key-654321';
const config = parseConfig(
  testConfigYaml().replace(
    'integrations:\n',
    `integrations:\n  og: { kind: opsgenie, token: "${OG_KEY}" }\n  og2: { kind: opsgenie, token: "${OTHER_KEY}" }\n`,
  ),
  {},
);

let kit: TelegramKit;
let t: TestApp;
let am: AlertmanagerKit;

beforeAll(async () => {
  ({ kit, t } = await build({ storeTimeout: 3600, config, polling: false }));
  am = await startAlertmanager({
    receivers: `  - name: opsbot
    opsgenie_configs:
      - api_url: ${t.url}/opsgenie/
        api_key: ${OG_KEY}
        send_resolved: true`,
  });
});
afterAll(async () => {
  await am?.stop();
});

const genie = (key = OG_KEY) => ({ authorization: `GenieKey ${key}` });
const og = (path: string, body: unknown, key = OG_KEY) =>
  post(`${t.url}/opsgenie${path}`, body, undefined, genie(key));
const put = async (path: string, body: unknown, key = OG_KEY) => {
  const res = await fetch(`${t.url}/opsgenie${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...genie(key) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const incidents = async () => t.app.services.repo.listSince(0);
const find = async (pred: (i: Incident) => boolean) => (await incidents()).find(pred);
const timeline = (id: string) => t.app.services.repo.timeline(id);
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('the real Alertmanager with opsgenie_configs', () => {
  it('opens an incident on firing and resolves it when the alert resolves', async () => {
    const labels = { alertname: 'OgDiskFull', severity: 'critical', instance: 'db-1' };
    await am.postAlerts([
      { labels, annotations: { summary: 'disk almost full' }, startsAt: new Date().toISOString() },
    ]);
    const inc = await kit.waitFor(
      () => find((i) => i.integration === 'og' && i.labels.alertname === 'OgDiskFull'),
      { timeoutMs: 20_000, label: 'incident from Alertmanager' },
    );
    expect(inc.state).toBe('triggered');
    expect(inc.title).toContain('OgDiskFull');
    // Alertmanager sends no priority; the common label severity=critical decides
    expect(inc.severity).toBe('P0');
    await am.postAlerts([
      {
        labels,
        startsAt: new Date(Date.now() - 60_000).toISOString(),
        endsAt: new Date(Date.now() - 1000).toISOString(),
      },
    ]);
    await kit.waitFor(async () => (await t.app.services.repo.get(inc.id))?.state === 'resolved', {
      timeoutMs: 20_000,
      label: 'resolved through close?identifierType=alias',
    });
    expect(am.logs()).not.toMatch(/Notify for alerts failed/);
  });
});

describe('the real Alertmanager with update_alerts: true', () => {
  it('a grown group updates the incident title and description in place', async () => {
    const am2 = await startAlertmanager({
      receivers: `  - name: opsbot
    opsgenie_configs:
      - api_url: ${t.url}/opsgenie/
        api_key: ${OG_KEY}
        update_alerts: true`,
    });
    try {
      const at = new Date().toISOString();
      const alert = (instance: string) => ({
        labels: { alertname: 'OgGrowing', severity: 'warning', instance },
        annotations: { summary: `slow on ${instance}` },
        startsAt: at,
      });
      await am2.postAlerts([alert('web-1')]);
      const inc = await kit.waitFor(
        () => find((i) => i.integration === 'og' && i.labels.alertname === 'OgGrowing'),
        { timeoutMs: 20_000, label: 'incident from Alertmanager' },
      );
      expect(inc.title).toContain('[FIRING:1]');
      // a second alert joins the group: Alertmanager re-sends the create (same alias) and then
      // PUTs the new message and description, which must land on the same incident
      await am2.postAlerts([alert('web-1'), alert('web-2')]);
      const grown = await kit.waitFor(
        async () => {
          const now = await t.app.services.repo.get(inc.id);
          return now?.title.includes('[FIRING:2]') && now.description.includes('web-2')
            ? now
            : undefined;
        },
        { timeoutMs: 20_000, label: 'title and description updated' },
      );
      expect(grown.state).toBe('triggered');
      const tl = await timeline(inc.id);
      expect(tl.filter((e) => e.type === 'retitled').length).toBeGreaterThanOrEqual(1);
      expect(tl.some((e) => e.type === 'retitled' && e.text?.includes('[FIRING:2]'))).toBe(true);
      // one incident for the group, not one per notification
      expect((await incidents()).filter((i) => i.labels.alertname === 'OgGrowing')).toHaveLength(1);
      expect(am2.logs()).not.toMatch(/Notify for alerts failed/);
    } finally {
      await am2.stop();
    }
  });
});

describe('the Opsgenie Alert API', () => {
  it('a Grafana Opsgenie contact point creates, then closes by alias', async () => {
    const apiUrl = `${t.url}/opsgenie/v2/alerts`; // Grafana's apiUrl setting
    const alias = '6a1d6a5c2b5e8f1d6f2b4d3c9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f00';
    const create = await post(
      apiUrl,
      {
        alias,
        message: '[FIRING:1] HighCPU (api-1)',
        description: 'HighCPU\nhttp://grafana.local/alerting/list\n\nValue: 97',
        tags: ['alertname:HighCPU', 'instance:api-1', 'severity:warning'],
        source: 'Grafana',
        details: {
          url: 'http://grafana.local/alerting/list',
          alertname: 'HighCPU',
          instance: 'api-1',
          severity: 'warning',
          value: 97,
        },
        priority: 'P2',
      },
      undefined,
      genie(),
    );
    expect(create.status).toBe(202);
    expect(create.body).toMatchObject({ result: 'Request will be processed' });
    expect(typeof create.body.took).toBe('number');
    expect(create.body.requestId).toMatch(uuid);
    const inc = (await find((i) => i.title === '[FIRING:1] HighCPU (api-1)'))!;
    expect(inc).toBeTruthy();
    expect(inc.severity).toBe('P1'); // P2 → P1
    expect(inc.labels).toMatchObject({ alertname: 'HighCPU', instance: 'api-1', value: '97' });
    // the request id tells which incident it made, as Opsgenie's request status does
    const status = await fetch(
      `${t.url}/opsgenie/v2/alerts/requests/${create.body.requestId as string}`,
      {
        headers: genie(),
      },
    );
    expect(((await status.json()) as { data: { alertId: string } }).data.alertId).toBe(inc.id);
    // a repeat updates the same incident
    await post(apiUrl, { alias, message: 'again' }, undefined, genie());
    expect((await incidents()).filter((i) => i.dedup.includes(alias))).toHaveLength(1);
    const close = await post(
      `${apiUrl}/${alias}/close?identifierType=alias`,
      { source: 'Grafana' },
      undefined,
      genie(),
    );
    expect(close.status).toBe(202);
    expect((await t.app.services.repo.get(inc.id))!.state).toBe('resolved');
    // closing again, or an unknown alias, is accepted and changes nothing (Opsgenie is asynchronous)
    expect((await og(`/v2/alerts/${alias}/close?identifierType=alias`, {})).status).toBe(202);
    expect((await og('/v2/alerts/nope/close?identifierType=alias', {})).status).toBe(202);
  });

  it('priorities map P1→P0, P2→P1, P3→P2, P4 and P5→P3', async () => {
    const got: string[] = [];
    for (const p of ['P1', 'P2', 'P3', 'P4', 'P5']) {
      expect(
        (await og('/v2/alerts', { message: `prio ${p}`, alias: `prio-${p}`, priority: p })).status,
      ).toBe(202);
      got.push((await find((i) => i.title === `prio ${p}`))!.severity);
    }
    expect(got).toEqual(['P0', 'P1', 'P2', 'P3', 'P3']);
  });

  it('acknowledge, notes and close by id, tiny id and alias', async () => {
    await og('/v2/alerts', {
      message: 'db slow',
      alias: 'db-slow',
      responders: [{ type: 'team', name: 'dba' }],
    });
    const inc = (await find((i) => i.title === 'db slow'))!;
    const n = inc.id.slice(4);
    expect(
      (
        await og(`/v2/alerts/db-slow/notes?identifierType=alias`, {
          note: 'looking',
          user: 'alice',
        })
      ).status,
    ).toBe(202);
    expect(
      (await og(`/v2/alerts/${n}/acknowledge?identifierType=tiny`, { user: 'bob' })).status,
    ).toBe(202);
    let now = (await t.app.services.repo.get(inc.id))!;
    expect(now.state).toBe('acknowledged');
    expect(now.ackBy).toBe('bob');
    expect(
      (await og(`/v2/alerts/${inc.id}/close`, { user: 'alice', note: 'fixed the index' })).status,
    ).toBe(202);
    now = (await t.app.services.repo.get(inc.id))!;
    expect(now.state).toBe('resolved');
    const tl = await timeline(inc.id);
    expect(tl.find((e) => e.type === 'note')).toMatchObject({ actor: 'alice', text: 'looking' });
    expect(tl.find((e) => e.type === 'resolved')).toMatchObject({
      actor: 'alice',
      text: 'fixed the index',
    });
    // notes on a closed alert still land
    expect(
      (await og(`/v2/alerts/${n}/notes?identifierType=tiny`, { note: 'postmortem soon' })).status,
    ).toBe(202);
    expect((await timeline(inc.id)).some((e) => e.text === 'postmortem soon')).toBe(true);
  });

  it('update message and description: the card is edited, a repeat writes nothing', async () => {
    // routed to the leads chat (details become labels), away from the storm in the ops chat
    await og('/v2/alerts', {
      message: 'cache cold',
      alias: 'cache-cold',
      description: 'miss rate',
      details: { team: 'leads' },
    });
    const inc = (await find((i) => i.title === 'cache cold'))!;
    await kit.waitFor(
      () =>
        kit.calls.find(
          (c) => c.method === 'sendMessage' && String(c.body.text).includes('cache cold'),
        ),
      { label: 'card' },
    );
    const since = kit.calls.length;
    const upd = await put('/v2/alerts/cache-cold/message?identifierType=alias', {
      message: '  cache <b>very</b> cold  ',
      user: 'carol',
    });
    expect(upd.status).toBe(202);
    expect(upd.body).toMatchObject({ result: 'Request will be processed' });
    expect((await t.app.services.repo.get(inc.id))!.title).toBe('cache <b>very</b> cold');
    const edit = await kit.waitFor(
      () =>
        kit.calls
          .slice(since)
          .find((c) => c.method === 'editMessageText' && String(c.body.text).includes('very')),
      { label: 'card edited with the new title' },
    );
    // the title is user text: escaped in the card
    expect(String(edit.body.text)).toContain('cache &lt;b&gt;very&lt;/b&gt; cold');
    expect(
      (await put(`/v2/alerts/${inc.id}/description`, { description: 'miss rate 80%' })).status,
    ).toBe(202);
    expect((await t.app.services.repo.get(inc.id))!.description).toBe('miss rate 80%');
    // the same message again (Alertmanager re-sends it with every notification): no new entry
    await put('/v2/alerts/cache-cold/message?identifierType=alias', {
      message: 'cache <b>very</b> cold',
    });
    const tl = await timeline(inc.id);
    expect(tl.filter((e) => e.type === 'retitled').map((e) => [e.actor, e.text])).toEqual([
      ['carol', 'cache <b>very</b> cold'],
      ['og', 'description updated'],
    ]);
    // errors: empty message 422, unknown id 404, unknown alias a no-op 202, other key cannot reach it
    const empty = await put('/v2/alerts/cache-cold/message?identifierType=alias', { message: ' ' });
    expect(empty.status).toBe(422);
    expect(empty.body.errors).toHaveProperty('message');
    expect(
      (
        await put('/v2/alerts/cache-cold/description?identifierType=alias', {
          description: 'x'.repeat(70_000),
        })
      ).status,
    ).toBe(422);
    expect((await put('/v2/alerts/INC-999999/message', { message: 'x' })).status).toBe(404);
    expect(
      (await put('/v2/alerts/no-such/message?identifierType=alias', { message: 'x' })).status,
    ).toBe(202);
    expect(
      (
        await put(
          '/v2/alerts/cache-cold/message?identifierType=alias',
          { message: 'hijack' },
          OTHER_KEY,
        )
      ).status,
    ).toBe(202);
    expect((await t.app.services.repo.get(inc.id))!.title).toBe('cache <b>very</b> cold');
    expect(
      (await put('/v2/alerts/cache-cold/message?identifierType=alias', '{"message": ')).status,
    ).toBe(400);
  });

  it('errors are shaped like Opsgenie: 401, 422, 400, 404', async () => {
    const body = { message: 'unauthorised', alias: 'unauth' };
    for (const headers of [
      {},
      { authorization: `Bearer ${OG_KEY}` },
      genie('wrong-key-123456'),
      genie(TOKENS.prometheus),
    ]) {
      const r = await post(`${t.url}/opsgenie/v2/alerts`, body, undefined, headers);
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ message: 'Could not authenticate.' });
      expect(r.body.requestId).toMatch(uuid);
    }
    expect(await find((i) => i.title === 'unauthorised')).toBeUndefined();
    const noMessage = await og('/v2/alerts', { alias: 'x' });
    expect(noMessage.status).toBe(422);
    expect(noMessage.body.message).toBe(
      'Request body is not processable. Please check the errors.',
    );
    expect(noMessage.body.errors).toHaveProperty('message');
    const badPriority = await og('/v2/alerts', { message: 'x', priority: 'P9' });
    expect(badPriority.status).toBe(422);
    expect(badPriority.body.errors).toHaveProperty('priority');
    expect((await og('/v2/alerts', '{"message": ')).status).toBe(400);
    const missing = await og('/v2/alerts/INC-999999/acknowledge?identifierType=id', {});
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/does not exist/);
    expect((await og('/v2/alerts/x/close?identifierType=bogus', {})).status).toBe(422);
    expect((await og('/v2/alerts/nope/notes?identifierType=alias', { note: 'x' })).status).toBe(
      404,
    );
    // the other opsgenie integration cannot reach this one's aliases
    await og('/v2/alerts', { message: 'mine', alias: 'mine' });
    expect(
      (await og('/v2/alerts/mine/notes?identifierType=alias', { note: 'x' }, OTHER_KEY)).status,
    ).toBe(404);
  });

  it('heartbeat pings map to opsbot heartbeats', async () => {
    const r = await fetch(`${t.url}/opsgenie/v2/heartbeats/backups/ping`, { headers: genie() });
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ result: 'PONG - Heartbeat received' });
    expect(
      await t.app.services.redis.hget(t.app.services.keys.heartbeat('last'), 'backups'),
    ).toBeTruthy();
    // its own heartbeat token works as a GenieKey too
    const own = await fetch(`${t.url}/opsgenie/v2/heartbeats/backups/ping`, {
      headers: genie(TOKENS.backups),
    });
    expect(own.status).toBe(202);
    expect(
      (await fetch(`${t.url}/opsgenie/v2/heartbeats/nosuch/ping`, { headers: genie() })).status,
    ).toBe(404);
    expect((await fetch(`${t.url}/opsgenie/v2/heartbeats/backups/ping`)).status).toBe(401);
  });
});
