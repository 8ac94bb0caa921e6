import { createHash, timingSafeEqual } from 'node:crypto';
import type { IntegrationConfig } from '../config.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Digests of configured secrets (`safeEqual`'s second argument), hashed once each. */
const known = new Map<string, Buffer>();

/**
 * Compares a presented secret `a` with the configured one `b` in constant time (both are hashed
 * first so lengths never leak; the configured one's digest is kept).
 */
export function safeEqual(a: string, b: string): boolean {
  let want = known.get(b);
  if (!want) {
    want = digest(b);
    if (known.size < 1000) known.set(b, want);
  }
  return timingSafeEqual(digest(a), want);
}

/** The bearer token of an Authorization header, or undefined. */
export function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/**
 * Finds which of `candidates` the token belongs to, checking every candidate (no early exit) so the
 * time taken does not tell how many matched or where.
 */
export function matchToken<T extends { token: string }>(
  token: string | undefined,
  candidates: [string, T][],
): [string, T] | undefined {
  let found: [string, T] | undefined;
  for (const c of candidates) {
    if (safeEqual(token ?? '', c[1].token) && token) found = found ?? c;
  }
  return found;
}

/**
 * The configured integrations of each kind, as `matchToken`'s candidates, listed once (the config
 * does not change while the app runs), not filtered from the config on every request.
 */
export function integrationsByKind(
  integrations: Record<string, IntegrationConfig>,
): (kind: IntegrationConfig['kind']) => [string, IntegrationConfig][] {
  const byKind = new Map<IntegrationConfig['kind'], [string, IntegrationConfig][]>();
  for (const entry of Object.entries(integrations)) {
    const list = byKind.get(entry[1].kind) ?? [];
    list.push(entry);
    byKind.set(entry[1].kind, list);
  }
  return (kind) => byKind.get(kind) ?? [];
}
