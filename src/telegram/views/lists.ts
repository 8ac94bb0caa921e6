import type { InlineKeyboardButton, InlineKeyboardMarkup } from 'grammy/types';
import type { Incident } from '../../domain/incident.js';
import type { Locale, Translate } from '../../i18n.js';
import { encodeCallback } from '../callback-data.js';
import { escapeHtml, trimText } from '../html.js';
import { formatTime } from '../../timezone.js';
import { SEVERITY_EMOJI } from './incident.js';

/** One line per incident, for lists. */
export function incidentLine(inc: Incident, t: Translate, locale: Locale): string {
  return `${SEVERITY_EMOJI[inc.severity]} ${inc.severity} <code>${inc.id}</code> ${escapeHtml(trimText(inc.title, 60))} · ${escapeHtml(
    t(locale, `state-${inc.state}`),
  )} · ${formatTime(inc.createdAt)}`;
}

/** One page of /incidents: a title with the counts, a line per incident, ◀ ▶ between pages. */
export function renderIncidentList(
  rows: Incident[],
  at: { total: number; page: number; pages: number },
  t: Translate,
  locale: Locale,
): { text: string; keyboard?: InlineKeyboardMarkup } {
  const { total, page: p, pages } = at;
  const lines = rows.map((i) => incidentLine(i, t, locale));
  const nav: InlineKeyboardButton[] = [];
  if (p > 0) nav.push({ text: '◀', callback_data: encodeCallback({ kind: 'list', page: p - 1 }) });
  if (p < pages - 1)
    nav.push({ text: '▶', callback_data: encodeCallback({ kind: 'list', page: p + 1 }) });
  return {
    text: `${t(locale, 'incidents-title', { count: total, page: p + 1, pages })}\n${lines.join('\n')}`,
    keyboard: nav.length ? { inline_keyboard: [nav] } : undefined,
  };
}
