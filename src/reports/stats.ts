import { formatDuration } from '../duration.js';
import type { Incident, TimelineEntry } from '../domain/incident.js';
import { SEVERITIES, type Severity } from '../domain/severity.js';

export interface SeverityStats {
  count: number;
  acknowledged: number;
  resolved: number;
  mttaMedian?: number;
  mttaP90?: number;
  mttrMedian?: number;
  mttrP90?: number;
  breaches: number;
  ackTargetMs?: number;
}

export interface IncidentStats {
  since: number;
  now: number;
  total: number;
  bySeverity: Record<Severity, SeverityStats>;
  noisy: { title: string; count: number }[];
  responders: { who: string; actions: number }[];
}

const HUMAN_ACTIONS = new Set([
  'acknowledged',
  'resolved',
  'note',
  'update',
  'runbook_started',
  'assigned',
  'escalate_requested',
]);

/** Percentile by the nearest-rank method: the smallest value with at least p% of values ≤ it. */
export function percentile(values: number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1];
}

/** Response statistics over incidents created since `since`: per severity MTTA/MTTR, breaches, noisy alerts, busiest responders. */
export function computeStats(
  items: { inc: Incident; timeline: TimelineEntry[] }[],
  opts: { since: number; now: number; ackTargets: Partial<Record<Severity, number>> },
): IncidentStats {
  const inWindow = items.filter((x) => x.inc.createdAt >= opts.since);
  const bySeverity = {} as Record<Severity, SeverityStats>;
  for (const sev of SEVERITIES) {
    const list = inWindow.filter((x) => x.inc.severity === sev);
    const target = opts.ackTargets[sev];
    const tta = list
      .filter((x) => x.inc.ackAt !== undefined)
      .map((x) => x.inc.ackAt! - x.inc.createdAt);
    const ttr = list
      .filter((x) => x.inc.resolvedAt !== undefined)
      .map((x) => x.inc.resolvedAt! - x.inc.createdAt);
    const breaches = list.filter((x) => {
      if (x.timeline.some((e) => e.type === 'breach')) return true;
      if (target === undefined) return false;
      if (x.inc.ackAt !== undefined) return x.inc.ackAt - x.inc.createdAt > target;
      // never acknowledged: a breach once it is older than the target (resolved or not)
      return (x.inc.resolvedAt ?? opts.now) - x.inc.createdAt > target;
    }).length;
    bySeverity[sev] = {
      count: list.length,
      acknowledged: tta.length,
      resolved: ttr.length,
      mttaMedian: percentile(tta, 50),
      mttaP90: percentile(tta, 90),
      mttrMedian: percentile(ttr, 50),
      mttrP90: percentile(ttr, 90),
      breaches,
      ackTargetMs: target,
    };
  }
  const noise = new Map<string, number>();
  const people = new Map<string, number>();
  for (const { inc, timeline } of inWindow) {
    const extra = timeline.filter(
      (e) => e.type === 'alert_added' || e.type === 'alert_refired',
    ).length;
    noise.set(inc.title, (noise.get(inc.title) ?? 0) + 1 + extra);
    for (const e of timeline) {
      if (
        !HUMAN_ACTIONS.has(e.type) ||
        e.actor === 'opsbot' ||
        e.actor === inc.source ||
        e.actor === inc.integration
      )
        continue;
      people.set(e.actor, (people.get(e.actor) ?? 0) + 1);
    }
  }
  const top = <K extends string>(m: Map<string, number>, k: K) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, 5)
      .map(([name, n]) => ({
        [k]: name,
        ...(k === 'title' ? { count: n } : { actions: n }),
      })) as never;
  return {
    since: opts.since,
    now: opts.now,
    total: inWindow.length,
    bySeverity,
    noisy: top(noise, 'title'),
    responders: top(people, 'who'),
  };
}

const d = (ms: number | undefined) => (ms === undefined ? '—' : formatDuration(ms));

/** A monospaced table for a Telegram `<pre>` block (plain text; the caller escapes it). */
export function renderStatsText(s: IncidentStats, label: string): string {
  const lines = [
    `Incidents ${label}: ${s.total}`,
    '',
    'sev  n   MTTA p50/p90    MTTR p50/p90    breaches',
  ];
  for (const sev of SEVERITIES) {
    const x = s.bySeverity[sev];
    lines.push(
      `${sev}  ${String(x.count).padEnd(3)} ${`${d(x.mttaMedian)}/${d(x.mttaP90)}`.padEnd(15)} ${`${d(x.mttrMedian)}/${d(x.mttrP90)}`.padEnd(15)} ${x.breaches}${x.ackTargetMs !== undefined ? ` (target ${d(x.ackTargetMs)})` : ''}`,
    );
  }
  if (s.noisy.length) {
    lines.push('', 'Noisiest alerts:');
    for (const n of s.noisy)
      lines.push(`  ${String(n.count).padStart(4)}  ${n.title.slice(0, 50)}`);
  }
  if (s.responders.length) {
    lines.push('', 'Busiest responders:');
    for (const r of s.responders) lines.push(`  ${String(r.actions).padStart(4)}  ${r.who}`);
  }
  return lines.join('\n');
}

/** Histogram buckets the scripts keep (common.lua ix_bucket): bucket 0 is [0, 10 s]; bucket i
 * covers (10 s·2^((i-1)/2), 10 s·2^(i/2)], each √2 wider than the last; the last one is open. */
export const HIST_BUCKETS = 40;
const HIST_BASE = 10_000;
const bound = (i: number) => HIST_BASE * 2 ** (i / 2);

/** The value a bucket stands for: its geometric middle (within ±19% of any value in it). */
export function bucketEstimate(i: number): number {
  if (i <= 0) return HIST_BASE / 2;
  return Math.round(Math.sqrt(bound(i - 1) * bound(Math.min(i, HIST_BUCKETS))));
}

/** Nearest-rank percentile over a bucketed histogram: the estimate of the bucket holding it. */
export function histPercentile(counts: number[], p: number): number | undefined {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total <= 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (seen >= rank) return bucketEstimate(i);
  }
  return bucketEstimate(counts.length - 1);
}

/**
 * Response statistics from the daily aggregates (summed fields `<sev>|<integration>|<what>` and the
 * top titles and responders), the same shape `computeStats` gives, without reading one incident.
 * Percentiles are bucket estimates (see `histPercentile`).
 */
export function statsFromAggregates(
  agg: { fields: Map<string, number>; noisy: [string, number][]; responders: [string, number][] },
  opts: { since: number; now: number; ackTargets: Partial<Record<Severity, number>> },
): IncidentStats {
  const per = new Map<
    Severity,
    { n: number; a: number; r: number; b: number; ta: number[]; tr: number[] }
  >();
  for (const sev of SEVERITIES)
    per.set(sev, {
      n: 0,
      a: 0,
      r: 0,
      b: 0,
      ta: new Array<number>(HIST_BUCKETS + 1).fill(0),
      tr: new Array<number>(HIST_BUCKETS + 1).fill(0),
    });
  for (const [field, v] of agg.fields) {
    const parts = field.split('|');
    const sev = parts[0] as Severity;
    const what = parts[parts.length - 1] ?? '';
    const x = per.get(sev);
    if (!x || !Number.isFinite(v)) continue;
    if (what === 'n' || what === 'a' || what === 'r' || what === 'b') x[what] += v;
    else if (/^t[ar]\d+$/.test(what)) {
      const i = Math.min(Number(what.slice(2)), HIST_BUCKETS);
      (what[1] === 'a' ? x.ta : x.tr)[i]! += v;
    }
  }
  const bySeverity = {} as Record<Severity, SeverityStats>;
  let total = 0;
  for (const sev of SEVERITIES) {
    const x = per.get(sev)!;
    total += x.n;
    bySeverity[sev] = {
      count: x.n,
      acknowledged: x.a,
      resolved: x.r,
      mttaMedian: histPercentile(x.ta, 50),
      mttaP90: histPercentile(x.ta, 90),
      mttrMedian: histPercentile(x.tr, 50),
      mttrP90: histPercentile(x.tr, 90),
      breaches: x.b,
      ackTargetMs: opts.ackTargets[sev],
    };
  }
  return {
    since: opts.since,
    now: opts.now,
    total,
    bySeverity,
    noisy: agg.noisy.map(([title, count]) => ({ title, count })),
    responders: agg.responders.map(([who, actions]) => ({ who, actions })),
  };
}
