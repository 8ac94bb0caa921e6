import { z } from 'zod';
import {
  clean,
  hashLabels,
  httpUrl,
  labelsSchema,
  links,
  MAX_ALERTS,
  parseWith,
  promAlertSchema,
  title,
} from './common.js';
import type { Alert } from '../domain/alert.js';

const url = z.string().max(2048).optional();

const unifiedAlert = promAlertSchema.extend({
  silenceURL: url,
  dashboardURL: url,
  panelURL: url,
  imageURL: url,
  valueString: z.string().max(4096).optional(),
});

const unified = z.object({
  receiver: z.string().max(512).optional(),
  status: z.enum(['firing', 'resolved']),
  alerts: z.array(unifiedAlert).min(1).max(MAX_ALERTS),
  externalURL: url,
  title: z.string().max(4096).optional(),
  message: z.string().max(65536).optional(),
});

const legacy = z.object({
  title: z.string().max(4096),
  ruleId: z.union([z.number(), z.string()]).optional(),
  ruleName: z.string().max(1024).optional(),
  ruleUrl: url,
  state: z.enum(['alerting', 'ok', 'no_data', 'paused', 'pending']),
  message: z.string().max(65536).optional(),
  imageUrl: url,
  tags: labelsSchema.optional().default({}),
});

/** Grafana webhook contact point (unified alerting; the legacy format too): one incident per alert fingerprint. */
export function parseGrafana(body: unknown, integration: string): Alert[] {
  if (body && typeof body === 'object' && !Array.isArray(body) && 'alerts' in body) {
    const p = parseWith(unified, body, 'Grafana');
    return p.alerts.map((a) => {
      const fp = a.fingerprint ? clean(a.fingerprint) : hashLabels(a.labels);
      const t = title(a.annotations.summary ?? a.labels.alertname ?? p.title ?? 'Grafana alert');
      return {
        source: 'grafana',
        integration,
        dedupKey: `grafana:${fp}`,
        fingerprint: fp,
        status: a.status,
        title: t || 'Grafana alert',
        description:
          a.annotations.description ?? (a.valueString ? clean(a.valueString) : undefined),
        severity: a.labels.severity,
        labels: a.labels,
        annotations: a.annotations,
        links: links([
          a.generatorURL ? { href: a.generatorURL, text: 'rule' } : undefined,
          a.dashboardURL ? { href: a.dashboardURL, text: 'dashboard' } : undefined,
          a.panelURL ? { href: a.panelURL, text: 'panel' } : undefined,
          a.annotations.runbook_url
            ? { href: a.annotations.runbook_url, text: 'runbook' }
            : undefined,
          a.silenceURL ? { href: a.silenceURL, text: 'silence' } : undefined,
        ]),
        startsAt: a.startsAt,
        endsAt: a.endsAt,
        imageUrl: httpUrl(a.imageURL),
      } satisfies Alert;
    });
  }
  const p = parseWith(legacy, body, 'Grafana');
  if (p.state === 'paused' || p.state === 'pending') return [];
  const key = String(p.ruleId ?? p.ruleName ?? p.title);
  const labels = { alertname: clean(p.ruleName ?? p.title), ...p.tags };
  return [
    {
      source: 'grafana',
      integration,
      dedupKey: `grafana:rule:${clean(key)}`,
      fingerprint: `rule:${clean(key)}`,
      status: p.state === 'ok' ? 'resolved' : 'firing',
      title: title(p.title) || 'Grafana alert',
      description: p.message ? clean(p.message).slice(0, 4096) : undefined,
      severity: p.tags.severity,
      labels,
      annotations: {},
      links: links([p.ruleUrl ? { href: p.ruleUrl, text: 'rule' } : undefined]),
      imageUrl: httpUrl(p.imageUrl),
    },
  ];
}
