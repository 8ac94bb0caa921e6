import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { clean, httpUrlSchema, links, parseWith, title } from './common.js';
import type { Alert } from '../domain/alert.js';

const payloadSchema = z.object({
  summary: z.string().min(1).max(1024),
  source: z.string().min(1).max(255),
  severity: z.enum(['critical', 'error', 'warning', 'info']),
  timestamp: z.string().max(64).optional(),
  component: z.string().max(255).optional(),
  group: z.string().max(255).optional(),
  class: z.string().max(255).optional(),
  custom_details: z.record(z.string(), z.unknown()).optional(),
});

const event = z.object({
  routing_key: z.string().min(1).max(255),
  event_action: z.enum(['trigger', 'acknowledge', 'resolve']),
  dedup_key: z.string().min(1).max(255).optional(),
  payload: payloadSchema.optional(),
  links: z
    .array(z.object({ href: z.string().max(2048), text: z.string().max(255).optional() }))
    .max(50)
    .optional(),
  // the first image is posted with the card (a photo with the card as caption), its href as a link
  images: z
    .array(
      z.object({
        src: httpUrlSchema('images[].src'),
        href: z.string().max(2048).optional(),
        alt: z.string().max(255).optional(),
      }),
    )
    .max(50)
    .optional(),
  client: z.string().max(255).optional(),
  client_url: z.string().max(2048).optional(),
});

/** PagerDuty Events API v2 (`/v2/enqueue`). The routing key names the integration. */
export function parseEventsV2(body: unknown): {
  routingKey: string;
  alert: Alert;
  dedupKey: string;
} {
  const e = parseWith(event, body, 'Events API v2');
  if (e.event_action === 'trigger' && !e.payload)
    throw new ValidationError('invalid Events API v2 payload', [
      { path: 'payload', message: 'required for trigger' },
    ]);
  if (e.event_action !== 'trigger' && !e.dedup_key)
    throw new ValidationError('invalid Events API v2 payload', [
      { path: 'dedup_key', message: `required for ${e.event_action}` },
    ]);
  const dedupKey = e.dedup_key ? clean(e.dedup_key) : randomBytes(16).toString('hex');
  const p = e.payload;
  const labels: Record<string, string> = {};
  if (p) {
    labels.source = clean(p.source);
    for (const k of ['component', 'group', 'class'] as const) if (p[k]) labels[k] = clean(p[k]!);
  }
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(p?.custom_details ?? {}).slice(0, 100)) {
    const s = v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);
    annotations[clean(k).slice(0, 200)] = clean(s).slice(0, 1000);
  }
  const image = e.images?.[0];
  const alert: Alert = {
    source: 'events-v2',
    integration: '',
    dedupKey: `ev2:${dedupKey}`,
    fingerprint: `ev2:${dedupKey}`,
    status: e.event_action === 'resolve' ? 'resolved' : 'firing',
    ...(e.event_action === 'acknowledge' ? { acknowledge: true } : {}),
    title: p ? title(p.summary) : dedupKey,
    severity: p?.severity,
    labels,
    annotations,
    links: links([
      ...(e.links ?? []),
      e.client_url ? { href: e.client_url, text: e.client ?? 'client' } : undefined,
      image?.href ? { href: image.href, text: image.alt ?? 'image' } : undefined,
    ]),
    ...(image ? { imageUrl: image.src } : {}),
    ...(p?.timestamp ? { startsAt: p.timestamp } : {}),
  };
  return { routingKey: e.routing_key, alert, dedupKey };
}
