import type { InlineKeyboardMarkup } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import type { Incident } from '../../../src/domain/incident.js';
import { createI18n } from '../../../src/i18n.js';
import { decodeCallback, route, unpack } from '../../../src/telegram/callback-data.js';
import { renderChecklist } from '../../../src/telegram/views/checklist.js';
import { renderDetails } from '../../../src/telegram/views/details.js';
import { renderDigest, renderIncident } from '../../../src/telegram/views/incident.js';
import { incidentLine, renderIncidentList } from '../../../src/telegram/views/lists.js';
import {
  renderStatusUpdate,
  updatePhaseKeyboard,
} from '../../../src/telegram/views/status-update.js';
import { makeIncident } from '../../helpers/incident.js';

const { t } = createI18n();
const T0 = Date.UTC(2026, 10, 24, 21, 30);
const HOUR = 3_600_000;

function inc(over: Partial<Incident> = {}): Incident {
  return makeIncident({
    id: 'INC-7',
    seq: 7,
    severity: 'P1',
    labels: { alertname: 'HighApiErrorRate', service: 'api' },
    createdAt: T0,
    updatedAt: T0,
    startedAt: T0,
    ...over,
  });
}
const rc = (now = T0) => ({ t, locale: 'en' as const, now });
const datas = (kb: InlineKeyboardMarkup | undefined) =>
  (kb?.inline_keyboard ?? []).flat().map((b) => ('callback_data' in b ? b.callback_data : ''));

describe('incident card', () => {
  it('names the alert as well as the summary, by each sender’s own name for it', () => {
    expect(renderIncident(inc(), rc()).text).toContain('Alert: <code>HighApiErrorRate</code>');
    const grafana = inc({ source: 'grafana', labels: { alertname: 'Disk full rule' } });
    expect(renderIncident(grafana, rc()).text).toContain('<code>Disk full rule</code>');
    const pd = inc({ source: 'events-v2', labels: { source: 'db-7', class: 'disk' } });
    expect(renderIncident(pd, rc()).text).toContain('Alert: <code>db-7</code>');
    const pdClass = inc({ source: 'events-v2', labels: { class: 'disk' } });
    expect(renderIncident(pdClass, rc()).text).toContain('Alert: <code>disk</code>');
    const og = inc({ source: 'opsgenie', labels: {}, dedup: 'og:checkout-slow' });
    expect(renderIncident(og, rc()).text).toContain('Alert: <code>checkout-slow</code>');
    // no name given, or the same as the title: no extra line
    const generic = inc({ source: 'generic', labels: {} });
    expect(renderIncident(generic, rc()).text).not.toContain('Alert:');
    const ogHash = inc({ source: 'opsgenie', labels: {}, dedup: 'og:msg:abc' });
    expect(renderIncident(ogHash, rc()).text).not.toContain('Alert:');
    const same = inc({ title: 'HighApiErrorRate' });
    expect(renderIncident(same, rc()).text).not.toContain('Alert:');
  });

  it('escapes the alert name, title and labels', () => {
    const x = inc({ title: '<b>x</b>', labels: { alertname: 'a<b>&', 'k<': 'v>' } });
    const { text } = renderIncident(x, rc());
    expect(text).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(text).toContain('<code>a&lt;b&gt;&amp;</code>');
    expect(text).toContain('k&lt;=<code>v&gt;</code>');
  });

  it('shows absolute times only: the card does not change as time passes', () => {
    const a = renderIncident(inc(), rc(T0 + 5)).text;
    const b = renderIncident(inc(), rc(T0 + 3 * HOUR)).text;
    expect(a).toBe(b);
    expect(a).toContain('started 2026-11-24 21:30 UTC');
    expect(a).not.toMatch(/ ago\b/);
  });

  it('says when and after how long it was resolved, with only a Details button', () => {
    const r = renderIncident(
      inc({ state: 'resolved', resolvedAt: T0 + HOUR + 12 * 60_000, resolvedBy: 'alice' }),
      rc(T0 + 5 * HOUR),
    );
    expect(r.text).toContain('Resolved by alice at 2026-11-24 22:42 UTC');
    expect(r.text).toContain('lasted 1h 12m');
    expect(datas(r.keyboard)).toEqual(['i:det:7']);
  });

  it('open incidents get the action buttons; the silence menu replaces them', () => {
    expect(datas(renderIncident(inc(), rc()).keyboard)).toEqual([
      'i:ack:7',
      'i:res:7',
      'i:esc:7',
      'i:sil:7',
      'i:det:7',
      'i:rb:7',
    ]);
    const acked = inc({ state: 'acknowledged', ackBy: 'bob', ackAt: T0 + 60_000 });
    const r = renderIncident(acked, rc());
    expect(datas(r.keyboard)[0]).toBe('i:unack:7');
    expect(r.text).toContain('bob');
    expect(datas(renderIncident(inc(), rc(), { menu: 'silence' }).keyboard)).toEqual([
      'i:s1h:7',
      'i:s4h:7',
      'i:s24h:7',
      'i:sres:7',
      'i:back:7',
    ]);
    const silenced = inc({ silencedUntil: T0 + HOUR });
    expect(datas(renderIncident(silenced, rc()).keyboard)).toContain('i:uns:7');
  });

  it('every button decodes and is routed by the filter of its kind', () => {
    for (const d of datas(renderIncident(inc(), rc()).keyboard)) {
      expect(decodeCallback(d)?.kind).toBe('inc');
      const rb = unpack('inc', d)?.action === 'rb';
      expect(route('inc', { only: ['rb'] }).test(d)).toBe(rb);
      expect(route('inc', { except: ['rb'] }).test(d)).toBe(!rb);
    }
    expect(unpack('list', 'i:ack:7')).toBeUndefined();
    expect(route('checklist').test('ck:7:1')).toBe(true);
  });
});

describe('digest', () => {
  it('counts by severity and state and lists the most severe first', () => {
    const r = renderDigest(
      [
        inc({ id: 'INC-2', seq: 2, severity: 'P3', title: 'low' }),
        inc({ id: 'INC-3', seq: 3, severity: 'P0', title: 'high', state: 'resolved' }),
      ],
      rc(),
    );
    expect(r.text).toContain('P0: 1 · 🔵 P3: 1');
    expect(r.text.indexOf('INC-3')).toBeLessThan(r.text.indexOf('INC-2'));
    expect(r.keyboard).toBeUndefined();
  });
});

describe('details, lists, checklist, status update', () => {
  it('details show when it opened, absolute, with time to acknowledge', () => {
    const text = renderDetails(
      inc({ ackAt: T0 + 90_000 }),
      [{ t: T0, type: 'created', actor: 'prometheus', text: '<x>' }],
      t,
      'en',
    );
    expect(text).toContain('Opened 2026-11-24 21:30 UTC');
    expect(text).not.toMatch(/ ago\b/);
    expect(text).toContain('<code>21:30:00</code> created · prometheus — &lt;x&gt;');
  });

  it('a list line and page have no age and page with ◀ ▶', () => {
    expect(incidentLine(inc(), t, 'en')).toContain('2026-11-24 21:30 UTC');
    const r = renderIncidentList([inc()], { total: 20, page: 1, pages: 3 }, t, 'en');
    expect(datas(r.keyboard)).toEqual(['l:0', 'l:2']);
    expect(renderIncidentList([inc()], { total: 1, page: 0, pages: 1 }, t, 'en').keyboard).toBe(
      undefined,
    );
  });

  it('the checklist ticks items by who and counts progress', () => {
    const r = renderChecklist(inc({ title: 'a<b' }), { '0': 'alice' }, t, 'en');
    expect(r.text).toContain('a&lt;b');
    expect(r.text).toContain('— <i>alice</i>');
    expect(datas(r.keyboard)[0]).toBe('ck:7:0');
    expect(r.keyboard.inline_keyboard).toHaveLength(15);
  });

  it('a status update escapes the text and author and shows the phase', () => {
    const text = renderStatusUpdate(
      inc(),
      { template: 'monitoring', text: 'fix <deployed>', who: 'a&b', at: T0 },
      t,
      'en',
    );
    expect(text).toContain('fix &lt;deployed&gt;');
    expect(text).toContain('a&amp;b');
    expect(text).toContain('Monitoring');
    expect(datas(updatePhaseKeyboard(7, t, 'en'))).toEqual([
      'up:investigating:7',
      'up:identified:7',
      'up:monitoring:7',
      'up:resolved:7',
    ]);
  });
});
