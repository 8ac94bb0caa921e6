import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Locale, Translate } from '../../i18n.js';
import type { Incident } from '../../domain/incident.js';
import { encodeCallback } from '../callback-data.js';
import { escapeHtml } from '../html.js';
import { CHECKLIST, CHECKLIST_ITEMS } from '../../incidents/checklist.js';

/** `state` maps item index → "who" for ticked items. */
export function renderChecklist(
  inc: Pick<Incident, 'id' | 'seq' | 'title'>,
  state: Record<string, string>,
  t: Translate,
  locale: Locale,
): { text: string; keyboard: InlineKeyboardMarkup } {
  const lines = [t(locale, 'ck-title', { id: inc.id, title: escapeHtml(inc.title) })];
  const rows: InlineKeyboardMarkup['inline_keyboard'] = [];
  let i = 0;
  for (const phase of CHECKLIST) {
    lines.push('', `<b>${escapeHtml(t(locale, phase.phase))}</b>`);
    for (const key of phase.items) {
      const who = state[String(i)];
      lines.push(
        `${who ? '✅' : '⬜'} ${escapeHtml(t(locale, key))}${who ? ` — <i>${escapeHtml(who)}</i>` : ''}`,
      );
      rows.push([
        {
          text: `${who ? '✅' : '⬜'} ${t(locale, key)}`.slice(0, 60),
          callback_data: encodeCallback({ kind: 'checklist', seq: inc.seq, item: i }),
        },
      ]);
      i++;
    }
  }
  const done = Object.keys(state).filter((k) => /^\d+$/.test(k)).length;
  lines.push('', t(locale, 'ck-progress', { done, total: CHECKLIST_ITEMS.length }));
  return { text: lines.join('\n'), keyboard: { inline_keyboard: rows } };
}
