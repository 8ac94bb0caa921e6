import { describe, expect, it } from 'vitest';
import type { Incident, TimelineEntry } from '../../../src/domain/incident.js';
import { renderStatsChart } from '../../../src/reports/chart.js';
import { buildPostmortem } from '../../../src/reports/postmortem.js';
import { computeStats, percentile, renderStatsText } from '../../../src/reports/stats.js';
import { makeIncident } from '../../helpers/incident.js';

const T0 = Date.parse('2026-11-20T10:00:00Z');
const MIN = 60_000;

function inc(over: Partial<Incident>): Incident {
  return makeIncident({
    state: 'resolved',
    severity: 'P1',
    title: 'API 5xx',
    description: 'error rate 7%',
    source: 'prometheus',
    dedup: 'k',
    chats: ['-1'],
    labels: { service: 'api' },
    links: [{ href: 'https://rb/x', text: 'runbook' }],
    createdAt: T0,
    updatedAt: T0,
    startedAt: T0,
    firingCount: 0,
    ...over,
  });
}
const e = (
  min: number,
  type: string,
  actor: string,
  text?: string,
  data?: Record<string, unknown>,
): TimelineEntry => ({
  t: T0 + min * MIN,
  type,
  actor,
  ...(text ? { text } : {}),
  ...(data ? { data } : {}),
});

describe('postmortem', () => {
  const i = inc({
    ackAt: T0 + 4 * MIN,
    ackBy: 'alice',
    resolvedAt: T0 + 42 * MIN,
    resolvedBy: 'bob',
  });
  const tl = [
    e(42, 'resolved', 'bob', 'rolled back | verified'),
    e(0, 'triggered', 'prometheus', 'API 5xx'),
    e(0, 'escalated', 'opsbot', 'level 1: #ops', { level: 0 }),
    e(4, 'acknowledged', 'alice'),
    e(10, 'note', 'alice', 'only api-1 affected'),
    e(20, 'runbook_started', 'alice', 'deploy-rollback', { run: 'r1', approvers: ['root'] }),
    e(22, 'runbook_finished', 'opsbot', 'deploy-rollback: ok', {
      run: 'r1',
      steps: [
        { name: 'rollback', status: 'ok' },
        { name: 'verify', status: 'ok' },
      ],
    }),
    e(30, 'update', 'bob', 'monitoring: error rate back to 0.1%'),
  ];
  const md = buildPostmortem(i, tl, { ackTargetMs: 60 * MIN, now: T0 + 60 * MIN });

  it('has the template sections and the impact window with durations', () => {
    for (const h of [
      '## Summary',
      '## Impact window',
      '## Detection',
      '## Responders',
      '## Timeline',
      '## Runbooks run',
      '## Root cause',
      '## Action items',
      '## Lessons learned',
    ])
      expect(md).toContain(h);
    expect(md).toContain('| acknowledged | 2026-11-20 10:04 UTC | 4m |');
    expect(md).toContain('| resolved | 2026-11-20 10:42 UTC | 42m |');
    expect(md).toContain('Time to acknowledge: 4m (target 1h: met)');
  });

  it('lists the timeline in time order with actors, escaping pipes', () => {
    const rows = md.split('\n').filter((l) => /^\| \d\d:\d\d:\d\d/.test(l));
    expect(rows.map((r) => r.slice(2, 10))).toEqual([
      '10:00:00',
      '10:00:00',
      '10:04:00',
      '10:10:00',
      '10:20:00',
      '10:22:00',
      '10:30:00',
      '10:42:00',
    ]);
    expect(md).toContain('rolled back \\| verified');
  });

  it('names responders (not sources) and runbook results', () => {
    expect(md).toMatch(/\*\*alice\*\*: Acknowledged, Note, Runbook started/);
    expect(md).toMatch(/\*\*bob\*\*: Status update, Resolved/);
    const responders = md.slice(md.indexOf('## Responders'), md.indexOf('## Timeline'));
    expect(responders).not.toMatch(/prometheus/);
    expect(md).toContain(
      '**deploy-rollback** asked by alice at 2026-11-20 10:20 UTC, approved by root: **ok**',
    );
    expect(md).toContain('  - ✅ verify (ok)');
  });

  it('is deterministic', () => {
    expect(buildPostmortem(i, [...tl], { ackTargetMs: 60 * MIN, now: T0 + 60 * MIN })).toBe(md);
  });
});

describe('statistics', () => {
  it('nearest-rank percentiles', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([], 50)).toBeUndefined();
  });

  // seeded data: P0 ×4 (ack 2, 5, 10, 30 min; resolve 20, 40, 60 min, one open), P1 ×2, P2 ×1 old (outside the window)
  const items = [
    {
      inc: inc({
        id: 'INC-1',
        severity: 'P0',
        title: 'Disk full',
        ackAt: T0 + 2 * MIN,
        resolvedAt: T0 + 20 * MIN,
      }),
      timeline: [e(0, 'acknowledged', 'alice'), e(20, 'resolved', 'alice')],
    },
    {
      inc: inc({
        id: 'INC-2',
        severity: 'P0',
        title: 'Disk full',
        ackAt: T0 + 5 * MIN,
        resolvedAt: T0 + 40 * MIN,
      }),
      timeline: [
        e(5, 'acknowledged', 'bob'),
        e(6, 'alert_added', 'prometheus'),
        e(40, 'resolved', 'alice'),
      ],
    },
    {
      inc: inc({
        id: 'INC-3',
        severity: 'P0',
        title: 'API down',
        ackAt: T0 + 10 * MIN,
        resolvedAt: T0 + 60 * MIN,
      }),
      timeline: [e(10, 'acknowledged', 'alice'), e(11, 'note', 'alice', 'x')],
    },
    {
      inc: inc({
        id: 'INC-4',
        severity: 'P0',
        title: 'API down',
        state: 'acknowledged',
        ackAt: T0 + 30 * MIN,
      }),
      timeline: [e(30, 'acknowledged', 'carol')],
    },
    {
      inc: inc({
        id: 'INC-5',
        severity: 'P1',
        title: 'Queue deep',
        ackAt: T0 + 70 * MIN,
        resolvedAt: T0 + 90 * MIN,
      }),
      timeline: [e(70, 'acknowledged', 'bob')],
    },
    {
      inc: inc({ id: 'INC-6', severity: 'P1', title: 'Queue deep', state: 'triggered' }),
      timeline: [e(0, 'breach', 'opsbot')],
    },
    {
      inc: inc({ id: 'INC-7', severity: 'P2', title: 'Old', createdAt: T0 - 10 * 86_400_000 }),
      timeline: [],
    },
  ];
  const s = computeStats(items, {
    since: T0 - 7 * 86_400_000,
    now: T0 + 120 * MIN,
    ackTargets: { P0: 15 * MIN, P1: 60 * MIN },
  });

  it('counts per severity inside the window only', () => {
    expect(s.total).toBe(6);
    expect(s.bySeverity.P0.count).toBe(4);
    expect(s.bySeverity.P1.count).toBe(2);
    expect(s.bySeverity.P2.count).toBe(0);
  });

  it('MTTA and MTTR medians and p90 (hand-computed, nearest rank)', () => {
    // P0 TTA: 2,5,10,30 min → p50 = 5 min (rank 2), p90 = 30 min (rank 4)
    expect(s.bySeverity.P0.mttaMedian).toBe(5 * MIN);
    expect(s.bySeverity.P0.mttaP90).toBe(30 * MIN);
    // P0 TTR: 20,40,60 → p50 = 40 (rank 2), p90 = 60 (rank 3)
    expect(s.bySeverity.P0.mttrMedian).toBe(40 * MIN);
    expect(s.bySeverity.P0.mttrP90).toBe(60 * MIN);
    expect(s.bySeverity.P1.mttaMedian).toBe(70 * MIN);
  });

  it('breaches: acked later than the target, or never acked past it, or marked', () => {
    expect(s.bySeverity.P0.breaches).toBe(1); // INC-4 acked at 30m > 15m
    expect(s.bySeverity.P1.breaches).toBe(2); // INC-5 at 70m > 60m; INC-6 never acked and marked
  });

  it('noisiest alerts and busiest responders', () => {
    expect(s.noisy[0]).toEqual({ title: 'Disk full', count: 3 }); // 2 incidents + 1 extra alert
    expect(s.responders[0]).toEqual({ who: 'alice', actions: 5 }); // ack, resolve, resolve, ack, note
    expect(s.responders.map((r) => r.who)).toEqual(['alice', 'bob', 'carol']);
    expect(renderStatsText(s, 'last 7d')).toContain('P0  4');
  });

  it('renders a PNG chart of plausible size', async () => {
    const png = await renderStatsChart(s, 'last 7 days');
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.readUInt32BE(16)).toBe(800);
    expect(png.readUInt32BE(20)).toBe(450);
    expect(png.length).toBeGreaterThan(5_000);
    expect(png.length).toBeLessThan(500_000);
  });

  it('renders in a child process that is held to a size cap and a timeout', async () => {
    await expect(renderStatsChart(s, 'last 7 days', { maxBytes: 1_000 })).rejects.toThrow(
      /over 1000 bytes/,
    );
    await expect(renderStatsChart(s, 'last 7 days', { timeoutMs: 1 })).rejects.toThrow(/timed out/);
  });

  it('keeps drawing after a refused chart, and draws concurrent charts one after the other', async () => {
    await expect(renderStatsChart(s, 'a', { timeoutMs: 1 })).rejects.toThrow(/timed out/);
    const pngs = await Promise.all([
      renderStatsChart(s, 'one'),
      renderStatsChart(s, 'two'),
      renderStatsChart(s, 'three'),
    ]);
    for (const png of pngs) expect(png.readUInt32BE(16)).toBe(800);
    // distinct titles: each answer is the chart asked for, not a neighbour's
    expect(new Set(pngs.map((p) => p.toString('base64'))).size).toBe(3);
    await expect(renderStatsChart(s, 'b', { maxBytes: 1_000 })).rejects.toThrow(/over 1000/);
    expect((await renderStatsChart(s, 'after')).readUInt32BE(20)).toBe(450);
  });
});
