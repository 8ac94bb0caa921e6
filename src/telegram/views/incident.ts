import type { InlineKeyboardButton, InlineKeyboardMarkup } from 'grammy/types';
import { formatDuration } from '../../duration.js';
import type { Locale, Translate } from '../../i18n.js';
import { alertName, INCIDENT_ROLES, type Incident } from '../../domain/incident.js';
import type { Severity } from '../../domain/severity.js';
import { formatTime } from '../../timezone.js';
import { encodeCallback, type IncidentAction } from '../callback-data.js';
import { escapeHtml, trimHtml, trimText } from '../html.js';

export const SEVERITY_EMOJI: Record<Severity, string> = { P0: '🔴', P1: '🟠', P2: '🟡', P3: '🔵' };
const STATE_EMOJI = { triggered: '🚨', acknowledged: '👀', resolved: '✅' } as const;
const HIDDEN_LABELS = new Set(['alertname', 'severity', '__name__']);

export interface RenderContext {
  t: Translate;
  locale: Locale;
  now: number;
}

export interface RenderedMessage {
  text: string;
  keyboard?: InlineKeyboardMarkup;
}

/** The incident message: state, what broke, who is on it, and the action buttons (none once resolved). */
export function renderIncident(
  inc: Incident,
  rc: RenderContext,
  opts: { menu?: 'silence' } = {},
): RenderedMessage {
  const { t, locale, now } = rc;
  const lines: string[] = [];
  const state = t(locale, `state-${inc.state}`);
  lines.push(
    `${SEVERITY_EMOJI[inc.severity]}${STATE_EMOJI[inc.state]} <b>${inc.severity} · ${escapeHtml(state)}</b> · <code>${inc.id}</code>`,
  );
  lines.push(`<b>${escapeHtml(trimText(inc.title, 300))}</b>`);
  const name = alertName(inc);
  if (name && name !== inc.title)
    lines.push(t(locale, 'inc-alert-name', { name: escapeHtml(trimText(name, 120)) }));
  if (inc.description) lines.push(escapeHtml(trimText(inc.description, 800)));
  const labels = Object.entries(inc.labels)
    .filter(([k]) => !HIDDEN_LABELS.has(k))
    .slice(0, 8)
    .map(([k, v]) => `${escapeHtml(trimText(k, 40))}=<code>${escapeHtml(trimText(v, 80))}</code>`);
  if (labels.length) lines.push(`🏷 ${labels.join(' · ')}`);
  lines.push(
    t(locale, 'inc-alerts', {
      count: inc.alertCount,
      firing: inc.firingCount,
      started: formatTime(inc.startedAt),
    }),
  );
  const links = inc.links
    .filter((l) => /^https?:\/\//i.test(l.href))
    .slice(0, 5)
    .map(
      (l) => `<a href="${escapeHtml(l.href)}">${escapeHtml(trimText(l.text || 'link', 40))}</a>`,
    );
  if (links.length) lines.push(`🔗 ${links.join(' · ')}`);
  if (inc.ackBy && inc.ackAt && inc.state !== 'triggered')
    lines.push(
      t(locale, 'inc-acked-by', { who: escapeHtml(inc.ackBy), at: formatTime(inc.ackAt) }),
    );
  if (inc.assignee) lines.push(t(locale, 'inc-assignee', { who: escapeHtml(inc.assignee) }));
  const roles = rolesLine(inc, rc);
  if (roles) lines.push(roles);
  if (inc.state === 'resolved' && inc.resolvedAt) {
    lines.push(
      t(locale, 'inc-resolved-by', {
        who: escapeHtml(inc.resolvedBy ?? '?'),
        at: formatTime(inc.resolvedAt),
        duration: formatDuration(inc.resolvedAt - inc.createdAt),
      }),
    );
  } else if (inc.paged.length) {
    lines.push(
      t(locale, 'inc-paged', { level: inc.level + 1, who: escapeHtml(inc.paged.join(', ')) }),
    );
  }
  if (inc.silencedUntil && inc.silencedUntil > now && inc.state !== 'resolved')
    lines.push(t(locale, 'inc-silenced-until', { until: formatTime(inc.silencedUntil) }));
  if (inc.breached && inc.state !== 'resolved') lines.push(t(locale, 'inc-breached'));
  const text = trimHtml(lines.join('\n'));
  if (inc.state === 'resolved') {
    return {
      text,
      keyboard: { inline_keyboard: [[btn(t(locale, 'btn-details'), inc.seq, 'det')]] },
    };
  }
  return { text, keyboard: incidentKeyboard(inc, rc, opts.menu) };
}

/** `🎖 Commander: alice · Comms: bob`, or '' when nobody holds a role. */
export function rolesLine(inc: Incident, rc: Pick<RenderContext, 't' | 'locale'>): string {
  const held = INCIDENT_ROLES.filter((r) => inc.roles?.[r]).map(
    (r) => `${rc.t(rc.locale, `inc-role-${r}`)}: ${escapeHtml(inc.roles![r]!)}`,
  );
  return held.length ? rc.t(rc.locale, 'inc-roles', { roles: held.join(' · ') }) : '';
}

function btn(text: string, seq: number, action: IncidentAction): InlineKeyboardButton {
  return { text, callback_data: encodeCallback({ kind: 'inc', action, seq }) };
}

/** Action buttons of an open incident; `menu: 'silence'` shows the silence durations instead. */
export function incidentKeyboard(
  inc: Incident,
  rc: RenderContext,
  menu?: 'silence',
): InlineKeyboardMarkup {
  const { t, locale } = rc;
  if (menu === 'silence') {
    return {
      inline_keyboard: [
        [
          btn(t(locale, 'btn-silence-1h'), inc.seq, 's1h'),
          btn(t(locale, 'btn-silence-4h'), inc.seq, 's4h'),
        ],
        [
          btn(t(locale, 'btn-silence-24h'), inc.seq, 's24h'),
          btn(t(locale, 'btn-silence-resolved'), inc.seq, 'sres'),
        ],
        [btn(t(locale, 'btn-back'), inc.seq, 'back')],
      ],
    };
  }
  const first =
    inc.state === 'triggered'
      ? btn(t(locale, 'btn-ack'), inc.seq, 'ack')
      : btn(t(locale, 'btn-unack'), inc.seq, 'unack');
  return {
    inline_keyboard: [
      [first, btn(t(locale, 'btn-resolve'), inc.seq, 'res')],
      [
        btn(t(locale, 'btn-escalate'), inc.seq, 'esc'),
        inc.silencedUntil && inc.silencedUntil > rc.now
          ? btn(t(locale, 'btn-unsilence'), inc.seq, 'uns')
          : btn(t(locale, 'btn-silence'), inc.seq, 'sil'),
      ],
      [
        btn(t(locale, 'btn-details'), inc.seq, 'det'),
        btn(t(locale, 'btn-runbooks'), inc.seq, 'rb'),
      ],
    ],
  };
}

/**
 * One message standing for many new incidents of a storm. Once some of them are acknowledged or
 * resolved it also counts them by state, and the outbox edits it in place (one edit per digest).
 */
export function renderDigest(incs: Incident[], rc: RenderContext): RenderedMessage {
  const { t, locale } = rc;
  const bySev: Record<Severity, number> = { P0: 0, P1: 0, P2: 0, P3: 0 };
  const byState = { triggered: 0, acknowledged: 0, resolved: 0 };
  for (const i of incs) {
    bySev[i.severity]++;
    byState[i.state]++;
  }
  // P0 < P1 < …: plain string order (localeCompare would load ICU collation data for life)
  const top = [...incs]
    .sort((a, b) => (a.severity < b.severity ? -1 : a.severity > b.severity ? 1 : a.seq - b.seq))
    .slice(0, 10);
  const lines = [
    t(locale, 'digest-title', { count: incs.length }),
    (Object.keys(bySev) as Severity[])
      .filter((s) => bySev[s] > 0)
      .map((s) => `${SEVERITY_EMOJI[s]} ${s}: ${bySev[s]}`)
      .join(' · '),
    ...(byState.triggered < incs.length
      ? [
          t(locale, 'digest-status', {
            open: byState.triggered,
            acked: byState.acknowledged,
            resolved: byState.resolved,
          }),
        ]
      : []),
    '',
    ...top.map(
      (i) =>
        `${SEVERITY_EMOJI[i.severity]}${i.state === 'triggered' ? '' : STATE_EMOJI[i.state]} <code>${i.id}</code> ${escapeHtml(trimText(i.title, 80))}`,
    ),
  ];
  if (incs.length > top.length)
    lines.push(t(locale, 'digest-more', { count: incs.length - top.length }));
  lines.push('', t(locale, 'digest-hint'));
  return { text: trimHtml(lines.join('\n')) };
}
