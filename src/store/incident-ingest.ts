import type { Alert } from '../domain/alert.js';
import { scopeDedup } from '../domain/dedup.js';
import type { Severity } from '../domain/severity.js';

export interface RoutedAlert {
  severity: Severity;
  chats: string[];
  notify: boolean;
  /** Fields and timers a newly created incident starts with; `%ID%` stands for its id. */
  onCreate?: {
    hset: Record<string, string | number>;
    timers: { id: string; due: number; data: Record<string, unknown> }[];
    /** Private chats that subscribed to new incidents of this severity. */
    dms?: string[];
  };
}

/** A batch of alerts as incident_upsert.lua takes it: items, creation plans and the alerts' JSON. */
export function encodeBatch(
  entries: { alert: Alert; routed: RoutedAlert }[],
  now: number,
): { items: string; plans: string; alerts: string[] } {
  const plans: string[] = [];
  const planIndex = new Map<string, number>();
  const items: unknown[] = [];
  const alertsJson: string[] = [];
  for (const { alert, routed } of entries) {
    const started = alert.startsAt ? Date.parse(alert.startsAt) : NaN;
    const plan = JSON.stringify(routed.onCreate ?? {});
    let c = planIndex.get(plan);
    if (c === undefined) {
      plans.push(plan);
      c = plans.length;
      planIndex.set(plan, c);
    }
    items.push({
      // per-integration: another integration's token never reaches this incident (domain/dedup.ts)
      d: scopeDedup(alert.integration, alert.dedupKey),
      fp: alert.fingerprint,
      st: alert.status,
      ack: alert.acknowledge ? 1 : 0,
      n: routed.notify ? 1 : 0,
      sev: routed.severity,
      ch: routed.chats,
      cj: JSON.stringify(routed.chats),
      c,
      f: {
        title: alert.title,
        description: alert.description ?? '',
        source: alert.integration || alert.source,
        integration: alert.integration,
        labels: JSON.stringify(alert.labels),
        links: JSON.stringify(alert.links),
        started_at: Number.isFinite(started) && started > 0 && started <= now ? started : now,
        image: alert.imageUrl ?? '',
      },
    });
    alertsJson.push(JSON.stringify(alert));
  }
  return { items: JSON.stringify(items), plans: `[${plans.join(',')}]`, alerts: alertsJson };
}
