import { z } from 'zod';
import { clean, hashLabels, links, MAX_LABELS, MAX_VALUE, parseWith, title } from './common.js';
import type { Alert } from '../domain/alert.js';
import type { Severity } from '../domain/severity.js';

/** Opsgenie priorities to opsbot severities: P1→P0, P2→P1, P3→P2, P4 and P5→P3. */
export const OPSGENIE_PRIORITY: Record<string, Severity> = {
  P1: 'P0',
  P2: 'P1',
  P3: 'P2',
  P4: 'P3',
  P5: 'P3',
};

const text = (max: number) => z.string().max(max, `at most ${max} characters`);

/** Details are a string map in Opsgenie; Grafana sends other JSON values too: they are stringified. */
const details = z
  .record(
    z.string().max(200),
    z.unknown().transform((v) => {
      const s = v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);
      return clean(s).slice(0, MAX_VALUE);
    }),
  )
  .refine((r) => Object.keys(r).length <= MAX_LABELS, `at most ${MAX_LABELS} details`);

/** The Opsgenie Alert API create body (https://docs.opsgenie.com/docs/alert-api#create-alert). */
const createSchema = z.object({
  message: z
    .string({ error: 'Message can not be empty.' })
    .refine((m) => m.trim() !== '', 'Message can not be empty.')
    .pipe(text(1024)),
  alias: text(512).optional(),
  description: z.string().max(65_536).optional(),
  priority: z
    .enum(['P1', 'P2', 'P3', 'P4', 'P5'], { error: 'Priority should be one of P1, P2, P3, P4, P5' })
    .optional(),
  tags: z.array(text(1000)).max(100).optional(),
  details: details.optional(),
  entity: text(512).optional(),
  source: text(512).optional(),
  user: text(100).optional(),
  note: text(25_000).optional(),
  // accepted for compatibility and ignored: opsbot's own routes and policies decide who is paged
  responders: z.array(z.unknown()).max(100).optional(),
  visibleTo: z.array(z.unknown()).max(100).optional(),
  actions: z.array(z.unknown()).max(100).optional(),
});

/** Bodies of close, acknowledge and notes. */
export const actionSchema = z
  .object({
    user: text(100).optional(),
    source: text(512).optional(),
    note: text(25_000).optional(),
  })
  .optional()
  .transform((b) => b ?? {});

export const noteSchema = z.object({
  note: z
    .string({ error: 'Note can not be empty.' })
    .refine((n) => n.trim() !== '', 'Note can not be empty.')
    .pipe(text(25_000)),
  user: text(100).optional(),
  source: text(512).optional(),
});

/** Bodies of "update alert message" and "update alert description" (Alertmanager's `update_alerts`). */
const messageSchema = z.object({
  message: createSchema.shape.message,
  user: text(100).optional(),
  source: text(512).optional(),
});
const descriptionSchema = z.object({
  description: z.string({ error: 'Description can not be empty.' }).max(65_536),
  user: text(100).optional(),
  source: text(512).optional(),
});

/** An update of an alert's message (the incident title) or description, cleaned as a create's would be. */
export interface OpsgenieUpdate {
  change: { title?: string; description?: string };
  user?: string;
}

export function parseOpsgenieUpdate(
  field: 'message' | 'description',
  body: unknown,
): OpsgenieUpdate {
  if (field === 'message') {
    const b = parseWith(messageSchema, body, 'Opsgenie message update');
    return { change: { title: title(b.message) }, ...(b.user ? { user: clean(b.user) } : {}) };
  }
  const b = parseWith(descriptionSchema, body, 'Opsgenie description update');
  return {
    change: { description: clean(b.description).slice(0, MAX_VALUE) },
    ...(b.user ? { user: clean(b.user) } : {}),
  };
}

export interface OpsgenieCreate {
  alert: Alert;
  alias: string;
  note?: string;
  user?: string;
}

/**
 * Opsgenie "create alert" → Alert. The alias is the dedup key (without one, a hash of the message,
 * so a repeated message updates one incident). `details` become labels (Alertmanager's and Grafana's
 * notifiers put the common labels there, so routes and silences match as for their own webhooks);
 * `key:value` tags fill labels the details lack.
 */
export function parseOpsgenieCreate(body: unknown, integration: string): OpsgenieCreate {
  const b = parseWith(createSchema, body, 'Opsgenie alert');
  const message = title(b.message);
  const alias = b.alias?.trim() ? clean(b.alias) : `msg:${hashLabels({ message })}`;
  const labels: Record<string, string> = { ...(b.details ?? {}) };
  for (const tag of b.tags ?? []) {
    const i = tag.indexOf(':');
    if (i > 0 && Object.keys(labels).length < MAX_LABELS) {
      const k = clean(tag.slice(0, i)).slice(0, 200);
      if (!(k in labels)) labels[k] = clean(tag.slice(i + 1)).slice(0, MAX_VALUE);
    }
  }
  const annotations: Record<string, string> = {};
  if (b.tags?.length) annotations.tags = clean(b.tags.join(', ')).slice(0, MAX_VALUE);
  if (b.entity) annotations.entity = clean(b.entity);
  if (b.source) annotations.source = clean(b.source);
  const description = b.description ? clean(b.description).slice(0, MAX_VALUE) : undefined;
  const url = labels.url;
  const alert: Alert = {
    source: 'opsgenie',
    integration,
    dedupKey: `og:${alias}`,
    fingerprint: alias,
    status: 'firing',
    title: message,
    ...(description ? { description } : {}),
    // an explicit priority wins; else the alert's own severity label; else Opsgenie's default P3
    severity: b.priority
      ? OPSGENIE_PRIORITY[b.priority]
      : (labels.severity ?? OPSGENIE_PRIORITY.P3),
    labels,
    annotations,
    links: links([url ? { href: url, text: 'source' } : undefined]),
  };
  return {
    alert,
    alias,
    ...(b.note ? { note: clean(b.note) } : {}),
    ...(b.user ? { user: clean(b.user) } : {}),
  };
}

/** The alert a close (`status: resolved`) or acknowledge by alias folds into the incident. */
export function opsgenieAliasAlert(
  integration: string,
  alias: string,
  action: 'close' | 'acknowledge',
): Alert {
  return {
    source: 'opsgenie',
    integration,
    dedupKey: `og:${alias}`,
    fingerprint: alias,
    status: action === 'close' ? 'resolved' : 'firing',
    ...(action === 'acknowledge' ? { acknowledge: true } : {}),
    title: alias,
    labels: {},
    annotations: {},
    links: [],
  };
}
