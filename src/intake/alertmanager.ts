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
import { fastPromAlert, fastRecord, isStatus, optString } from './fast.js';

const amAlert = promAlertSchema;

export const amPayload = z.object({
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

type AmPayload = z.output<typeof amPayload>;

/** amPayload without zod for the common valid body (see fast.ts); undefined: ask zod. */
export function fastAmPayload(body: unknown): AmPayload | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  const { version, groupKey, truncatedAlerts, status, receiver, externalURL, alerts } = b;
  if (!optString(version, 16) || !optString(receiver, 512) || !optString(externalURL, 2048))
    return undefined;
  if (typeof groupKey !== 'string' || groupKey.length < 1 || groupKey.length > 4096)
    return undefined;
  if (
    truncatedAlerts !== undefined &&
    !(Number.isSafeInteger(truncatedAlerts) && (truncatedAlerts as number) >= 0)
  )
    return undefined;
  if (!isStatus(status)) return undefined;
  if (!Array.isArray(alerts) || alerts.length < 1 || alerts.length > MAX_ALERTS) return undefined;
  const record = (v: unknown, truncate: boolean) =>
    v === undefined ? {} : fastRecord(v, truncate);
  const groupLabels = record(b.groupLabels, false);
  const commonLabels = record(b.commonLabels, false);
  const commonAnnotations = record(b.commonAnnotations, true);
  if (!groupLabels || !commonLabels || !commonAnnotations) return undefined;
  const parsed: AmPayload['alerts'] = [];
  for (const a of alerts) {
    const x = fastPromAlert(a);
    if (!x) return undefined;
    parsed.push(x);
  }
  // zod's key order (the shape's), absent optional keys left out
  const out = {} as AmPayload;
  if (version !== undefined) out.version = version;
  out.groupKey = groupKey;
  out.truncatedAlerts = (truncatedAlerts as number | undefined) ?? 0;
  out.status = status;
  if (receiver !== undefined) out.receiver = receiver;
  out.groupLabels = groupLabels;
  out.commonLabels = commonLabels;
  out.commonAnnotations = commonAnnotations;
  if (externalURL !== undefined) out.externalURL = externalURL;
  out.alerts = parsed;
  return out;
}

/** Alertmanager webhook v4: the whole group (groupKey) is one incident listing its alerts. */
export function parseAlertmanager(body: unknown, integration: string): Alert[] {
  const p = fastAmPayload(body) ?? parseWith(amPayload, body, 'Alertmanager');
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
