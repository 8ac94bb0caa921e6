/**
 * A fast path for the common, valid webhook body: the exact checks and transforms of the zod
 * schemas in common.ts (labels, annotations, the Prometheus-style alert) written as plain loops.
 * It answers undefined whenever it is not sure (anything unusual, anything invalid), and the caller
 * then parses with zod as before, so zod stays the one source of error messages; a body the fast
 * path accepts parses to the same value zod gives (test/unit/intake/fast.test.ts holds the two to
 * it). Validating a one-alert body with the zod schemas cost ~100 µs, most of intake's own work.
 */
import { clean, MAX_LABELS, MAX_VALUE } from './common.js';

const MAX_NAME = 200;

/** `undefined` (absent) is fine; otherwise a string of at most `max`, or not sure. */
export function optString(v: unknown, max: number): v is string | undefined {
  return v === undefined || (typeof v === 'string' && v.length <= max);
}

/** labelsSchema / annotationsSchema without zod; `truncate`: annotations' long values. */
export function fastRecord(v: unknown, truncate: boolean): Record<string, string> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  if (Object.getPrototypeOf(v) !== Object.prototype) return undefined;
  const keys = Object.keys(v);
  if (keys.length > MAX_LABELS) return undefined;
  const out: Record<string, string> = {};
  for (const k of keys) {
    if (k.length > MAX_NAME || k === '__proto__') return undefined;
    const raw = (v as Record<string, unknown>)[k];
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean')
      return undefined;
    let s = clean(String(raw));
    if (s.length > MAX_VALUE) {
      if (!truncate) return undefined;
      s = `${s.slice(0, MAX_VALUE - 1)}…`;
    }
    out[clean(k)] = s;
  }
  return out;
}

export interface FastPromAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
  fingerprint?: string;
}

export const isStatus = (s: unknown): s is 'firing' | 'resolved' =>
  s === 'firing' || s === 'resolved';

/** promAlertSchema without zod (unknown keys dropped, as zod's object does), or undefined. */
export function fastPromAlert(v: unknown): FastPromAlert | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const a = v as Record<string, unknown>;
  if (!isStatus(a.status)) return undefined;
  const labels = fastRecord(a.labels, false);
  if (!labels) return undefined;
  const annotations = a.annotations === undefined ? {} : fastRecord(a.annotations, true);
  if (!annotations) return undefined;
  const { startsAt, endsAt, generatorURL, fingerprint } = a;
  if (
    !optString(startsAt, 64) ||
    !optString(endsAt, 64) ||
    !optString(generatorURL, 2048) ||
    !optString(fingerprint, 128)
  )
    return undefined;
  const out: FastPromAlert = { status: a.status, labels, annotations };
  if (startsAt !== undefined) out.startsAt = startsAt;
  if (endsAt !== undefined) out.endsAt = endsAt;
  if (generatorURL !== undefined) out.generatorURL = generatorURL;
  if (fingerprint !== undefined) out.fingerprint = fingerprint;
  return out;
}
