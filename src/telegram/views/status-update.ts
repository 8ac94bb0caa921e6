import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Incident } from '../../domain/incident.js';
import type { Locale, Translate } from '../../i18n.js';
import { formatTime } from '../../timezone.js';
import { encodeCallback } from '../callback-data.js';
import { escapeHtml, trimText } from '../html.js';

/** The phases a status update can announce, in the order their buttons show. */
export const UPDATE_TEMPLATES = ['investigating', 'identified', 'monitoring', 'resolved'];

/** A status update as posted to the incident chats and the stakeholder chat. */
export function renderStatusUpdate(
  inc: Pick<Incident, 'id' | 'severity' | 'title' | 'state'>,
  u: { template: string; text: string; who: string; at: number },
  t: Translate,
  locale: Locale,
): string {
  return t(locale, 'update-post', {
    id: inc.id,
    severity: inc.severity,
    title: escapeHtml(inc.title),
    state: t(locale, `state-${inc.state}`),
    phase: t(locale, `update-tpl-${u.template}`),
    text: escapeHtml(trimText(u.text, 2000)),
    who: escapeHtml(u.who),
    at: formatTime(u.at),
  });
}

/** The phase buttons of an /update given without a phase (two rows of two). */
export function updatePhaseKeyboard(
  seq: number,
  t: Translate,
  locale: Locale,
): InlineKeyboardMarkup {
  const btn = (tpl: string) => ({
    text: t(locale, `update-tpl-${tpl}`),
    callback_data: encodeCallback({ kind: 'update', template: tpl, seq }),
  });
  return {
    inline_keyboard: [UPDATE_TEMPLATES.slice(0, 2).map(btn), UPDATE_TEMPLATES.slice(2).map(btn)],
  };
}
