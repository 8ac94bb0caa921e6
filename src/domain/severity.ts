/** Incident priority: P0 critical .. P3 low, as in the runbooks. */
export type Severity = 'P0' | 'P1' | 'P2' | 'P3';
export const SEVERITIES: readonly Severity[] = ['P0', 'P1', 'P2', 'P3'];

/** Maps a raw severity to P0..P3: critical→P0, error/high→P1, warning→P2, anything else→P3. */
export function mapSeverity(raw: string | undefined): Severity {
  const s = (raw ?? '').trim().toLowerCase();
  if (/^p[0-3]$/.test(s)) return s.toUpperCase() as Severity;
  if (s === 'critical') return 'P0';
  if (s === 'error' || s === 'high') return 'P1';
  if (s === 'warning') return 'P2';
  return 'P3';
}
