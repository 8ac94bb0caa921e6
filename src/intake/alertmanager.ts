import { z } from 'zod';
import {
  annotationsSchema,
  clean,
  hashLabels,
  labelsSchema,
  links,
  MAX_ALERTS,
  parseWith,
  promAlertSchema,
  title,
} from './common.js';
import type { Alert } from '../domain/alert.js';

const amAlert = promAlertSchema;

const amPayload = z.object({
  version: z.string().max(16).optional(),
  groupKey: z.string().min(1).max(4096),
  truncatedAlerts: z.number().int().min(0).optional().default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(512).optional(),
  groupLabels: labelsSchema.optional().default({}),
  commonLabels: labelsSchema.optional().default({}),
  commonAnnotations: annotationsSchema.optional().default({}),
  externalURL: z.string().max(2048).optional(),
  alerts: z.array(amAlert).min(1).max(MAX_ALERTS),
});

/** Alertmanager webhook v4: the whole group (groupKey) is one incident listing its alerts. */
export function parseAlertmanager(body: unknown, integration: string): Alert[] {
  const p = parseWith(amPayload, body, 'Alertmanager');
  const dedupKey = `am:${clean(p.groupKey)}`;
  return p.alerts.map((a, i) => {
    const labels = { ...p.commonLabels, ...a.labels };
    const annotations = { ...p.commonAnnotations, ...a.annotations };
    if (p.truncatedAlerts > 0) annotations.opsbot_truncated = String(p.truncatedAlerts);
    const t = title(
      annotations.summary ?? labels.alertname ?? p.groupLabels.alertname ?? `alert group ${i + 1}`,
    );
    return {
      source: 'alertmanager',
      integration,
      dedupKey,
      fingerprint: a.fingerprint ? clean(a.fingerprint) : hashLabels(labels),
      status: a.status,
      title: t || 'Alertmanager alert',
      description: annotations.description ?? annotations.message,
      severity: labels.severity,
      labels,
      annotations,
      links: links([
        a.generatorURL ? { href: a.generatorURL, text: 'source' } : undefined,
        annotations.runbook_url ? { href: annotations.runbook_url, text: 'runbook' } : undefined,
        annotations.dashboard_url
          ? { href: annotations.dashboard_url, text: 'dashboard' }
          : undefined,
        p.externalURL ? { href: p.externalURL, text: 'alertmanager' } : undefined,
      ]),
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      ...(Object.keys(p.groupLabels).length ? { groupLabels: p.groupLabels } : {}),
    } satisfies Alert;
  });
}
