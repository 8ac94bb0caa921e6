import { createHash } from 'node:crypto';
import { z } from 'zod';
import { zodIssues } from '../config.js';
import { ValidationError } from '../errors.js';
import type { AlertLink } from '../domain/alert.js';

export const MAX_ALERTS = 1000;
export const MAX_LABELS = 200;
export const MAX_TITLE = 1024;
export const MAX_VALUE = 4096;

/** Strips NUL and replaces lone surrogates so stored text is always well-formed. */
export function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return (s.replace(/\u0000/g, '') as string & { toWellFormed(): string }).toWellFormed();
}

/** Trims and truncates a title; empty stays empty (the schema rejects it). */
export function title(s: string): string {
  const t = clean(s).trim();
  return t.length > MAX_TITLE ? `${t.slice(0, MAX_TITLE - 1)}…` : t;
}

/** Record keys go through `clean` too (a lone surrogate in a label name must not reach storage). */
function cleanKeys(r: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r)) out[clean(k)] = v;
  return out;
}

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform((v) => clean(String(v)));

/** Label sets: string values (numbers and booleans coerced), bounded size and lengths. */
export const labelsSchema = z
  .record(
    z.string().max(200, 'label names are at most 200 characters'),
    scalar.pipe(z.string().max(MAX_VALUE, `label values are at most ${MAX_VALUE} characters`)),
  )
  .refine((r) => Object.keys(r).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`)
  .transform(cleanKeys);

/** Annotations: like labels, but long values are truncated rather than refused. */
export const annotationsSchema = z
  .record(
    z.string().max(200),
    scalar.transform((v) => (v.length > MAX_VALUE ? `${v.slice(0, MAX_VALUE - 1)}…` : v)),
  )
  .refine((r) => Object.keys(r).length <= MAX_LABELS, `at most ${MAX_LABELS} annotations`)
  .transform(cleanKeys);

/** Keeps only http(s) links. */
export function links(list: (AlertLink | undefined)[]): AlertLink[] {
  return list.filter(
    (l): l is AlertLink => !!l && /^https?:\/\/\S+$/i.test(l.href) && l.href.length <= 2048,
  );
}

/** Stable short hash of labels (sorted), for alerts without a fingerprint. */
export function hashLabels(labels: Record<string, string>, extra = ''): string {
  const canon = JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
  return createHash('sha256')
    .update(extra + canon)
    .digest('hex')
    .slice(0, 16);
}

/** Parses with zod; failures become a ValidationError with path-level issues. */
export function parseWith<T extends z.ZodType>(
  schema: T,
  body: unknown,
  what: string,
): z.output<T> {
  const r = schema.safeParse(body);
  if (!r.success) throw new ValidationError(`invalid ${what} payload`, zodIssues(r.error));
  return r.data;
}

/** Fields every Prometheus-style alert has (Alertmanager and Grafana unified alerting). */
export const promAlertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: labelsSchema,
  annotations: annotationsSchema.optional().default({}),
  startsAt: z.string().max(64).optional(),
  endsAt: z.string().max(64).optional(),
  generatorURL: z.string().max(2048).optional(),
  fingerprint: z.string().max(128).optional(),
});

/** An http(s) URL of at most 2048 characters, else the same undefined as a missing one (lenient senders). */
export function httpUrl(u: string | undefined): string | undefined {
  return u && u.length <= 2048 && /^https?:\/\/[^\s/?#]+\S*$/i.test(u) && URL.canParse(u)
    ? u
    : undefined;
}

/** A field that must be an http(s) URL when present: a clear 400 otherwise. */
export const httpUrlSchema = (field: string) =>
  z
    .string()
    .max(2048, `${field} is at most 2048 characters`)
    .refine((u) => httpUrl(u) !== undefined, `${field} must be an http(s) URL`);
