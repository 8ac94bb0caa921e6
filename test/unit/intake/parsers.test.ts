import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/errors.js';
import {
  parseAlertmanager,
  parseEventsV2,
  parseGeneric,
  parseGrafana,
} from '../../../src/intake/index.js';
import { amAlert, amWebhook } from '../../helpers/am-webhook.js';

const am = (over: Record<string, unknown> = {}) =>
  amWebhook({
    commonLabels: { alertname: 'HighQueueDepth', severity: 'critical', team: 'platform' },
    alerts: [
      amAlert(),
      {
        status: 'resolved',
        labels: { alertname: 'HighQueueDepth', severity: 'critical', queue: 'mail' },
        annotations: {},
        startsAt: '2026-11-24T09:00:00Z',
        endsAt: '2026-11-24T09:30:00Z',
        generatorURL: 'ftp://not-a-web-link',
      },
    ],
    ...over,
  });

const issuesOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).issues;
  }
  throw new Error('expected a ValidationError');
};

describe('Alertmanager webhook v4', () => {
  it('a grouped payload is one dedup key; each alert keeps its identity and status', () => {
    const alerts = parseAlertmanager(am(), 'prometheus');
    expect(alerts).toHaveLength(2);
    expect(new Set(alerts.map((a) => a.dedupKey))).toEqual(
      new Set(['am:{}/{}:{alertname="HighQueueDepth"}']),
    );
    expect(alerts[0]).toMatchObject({
      fingerprint: 'aa11',
      status: 'firing',
      title: 'Queue depth above 1000',
      description: 'depth 1532',
      severity: 'critical',
      labels: { team: 'platform', queue: 'jobs' },
    });
    expect(alerts[0]!.links.map((l) => l.text)).toEqual(['source', 'runbook', 'alertmanager']);
    // no fingerprint: a stable hash of the labels; non-http links dropped
    expect(alerts[1]!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(parseAlertmanager(am(), 'prometheus')[1]!.fingerprint).toBe(alerts[1]!.fingerprint);
    expect(alerts[1]!.links.map((l) => l.text)).toEqual(['alertmanager']);
  });

  it('marks truncated groups', () => {
    const alerts = parseAlertmanager(am({ truncatedAlerts: 17 }), 'prometheus');
    expect(alerts[0]!.annotations.opsbot_truncated).toBe('17');
  });

  it('resolved payloads parse as resolved alerts', () => {
    const body = am({ status: 'resolved' });
    (body.alerts as { status: string }[]).forEach((a) => (a.status = 'resolved'));
    expect(parseAlertmanager(body, 'p').every((a) => a.status === 'resolved')).toBe(true);
  });

  it('bad bodies name the path', () => {
    expect(
      issuesOf(() =>
        parseAlertmanager({ ...am(), alerts: [{ status: 'burning', labels: {} }] }, 'p'),
      )[0]!.path,
    ).toBe('alerts[0].status');
    expect(issuesOf(() => parseAlertmanager({ ...am(), groupKey: undefined }, 'p'))[0]!.path).toBe(
      'groupKey',
    );
    expect(issuesOf(() => parseAlertmanager({ ...am(), alerts: [] }, 'p'))[0]!.path).toBe('alerts');
    for (const junk of [null, 42, 'x', [], { alerts: 'x' }])
      issuesOf(() => parseAlertmanager(junk, 'p'));
  });
});

describe('Grafana', () => {
  it('unified alerting: one dedup key per fingerprint', () => {
    const alerts = parseGrafana(
      {
        receiver: 'x',
        status: 'firing',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'DB CPU', severity: 'warning' },
            annotations: { summary: 'DB CPU > 80%' },
            fingerprint: 'g1',
            dashboardURL: 'https://grafana/d/1',
            silenceURL: 'https://grafana/s',
          },
        ],
      },
      'grafana',
    );
    expect(alerts[0]).toMatchObject({
      dedupKey: 'grafana:g1',
      title: 'DB CPU > 80%',
      severity: 'warning',
    });
    expect(alerts[0]!.links.map((l) => l.text)).toEqual(['dashboard', 'silence']);
  });

  it('legacy format: alerting fires, ok resolves, paused is nothing', () => {
    const legacy = (state: string) => ({
      title: '[Alerting] Login failures',
      ruleId: 7,
      ruleName: 'Login failures',
      state,
      message: 'many',
      tags: { severity: 'critical' },
    });
    expect(parseGrafana(legacy('alerting'), 'g')[0]).toMatchObject({
      status: 'firing',
      dedupKey: 'grafana:rule:7',
      severity: 'critical',
    });
    expect(parseGrafana(legacy('ok'), 'g')[0]!.status).toBe('resolved');
    expect(parseGrafana(legacy('paused'), 'g')).toEqual([]);
    expect(issuesOf(() => parseGrafana(legacy('exploded'), 'g'))[0]!.path).toBe('state');
  });
});

describe('generic JSON', () => {
  it('one or many; dedup_key or a hash of title and labels', () => {
    const [a] = parseGeneric(
      {
        title: 'Backup failed',
        status: 'firing',
        severity: 'error',
        dedup_key: 'backup',
        labels: { job: 'nightly', n: 3 },
      },
      'ci',
    );
    expect(a).toMatchObject({
      dedupKey: 'generic:backup',
      severity: 'error',
      labels: { job: 'nightly', n: '3' },
    });
    const many = parseGeneric(
      [
        { title: 'a', status: 'firing' },
        { title: 'a', status: 'firing' },
      ],
      'ci',
    );
    expect(many[0]!.dedupKey).toBe(many[1]!.dedupKey);
    expect(
      parseGeneric({ title: 'x'.repeat(3000), status: 'firing' }, 'ci')[0]!.title,
    ).toHaveLength(1024);
  });

  it('rejects empty titles, bad status, huge label sets', () => {
    expect(issuesOf(() => parseGeneric({ title: '   ', status: 'firing' }, 'ci'))[0]!.path).toBe(
      'title',
    );
    expect(issuesOf(() => parseGeneric({ title: 'x', status: 'maybe' }, 'ci'))[0]!.path).toBe(
      'status',
    );
    const labels = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`l${i}`, 'v']));
    expect(
      issuesOf(() => parseGeneric({ title: 'x', status: 'firing', labels }, 'ci'))[0]!.path,
    ).toBe('labels');
  });

  it('strips NUL and repairs lone surrogates', () => {
    const [a] = parseGeneric({ title: 'a\u0000b\ud800', status: 'firing' }, 'ci');
    expect(a!.title).toBe('ab\ufffd');
  });
});

describe('PagerDuty Events API v2', () => {
  it('trigger with payload; a dedup key is generated when absent', () => {
    const r = parseEventsV2({
      routing_key: 'rk',
      event_action: 'trigger',
      payload: {
        summary: 'DB down',
        source: 'db-1',
        severity: 'critical',
        component: 'postgres',
        custom_details: { free_disk: '1%', nested: { a: 1 } },
      },
      links: [{ href: 'https://status', text: 'status' }],
    });
    expect(r.dedupKey).toMatch(/^[0-9a-f]{32}$/);
    expect(r.alert).toMatchObject({
      title: 'DB down',
      severity: 'critical',
      status: 'firing',
      labels: { source: 'db-1', component: 'postgres' },
      annotations: { free_disk: '1%', nested: '{"a":1}' },
    });
  });

  it('acknowledge and resolve need a dedup_key', () => {
    expect(
      parseEventsV2({ routing_key: 'rk', event_action: 'acknowledge', dedup_key: 'k' }).alert,
    ).toMatchObject({ acknowledge: true, status: 'firing', dedupKey: 'ev2:k' });
    expect(
      parseEventsV2({ routing_key: 'rk', event_action: 'resolve', dedup_key: 'k' }).alert.status,
    ).toBe('resolved');
    expect(
      issuesOf(() => parseEventsV2({ routing_key: 'rk', event_action: 'resolve' }))[0]!.path,
    ).toBe('dedup_key');
    expect(
      issuesOf(() => parseEventsV2({ routing_key: 'rk', event_action: 'trigger' }))[0]!.path,
    ).toBe('payload');
    expect(
      issuesOf(() =>
        parseEventsV2({
          routing_key: 'rk',
          event_action: 'trigger',
          dedup_key: 'x'.repeat(256),
          payload: { summary: 's', source: 's', severity: 'info' },
        }),
      )[0]!.path,
    ).toBe('dedup_key');
  });
});
