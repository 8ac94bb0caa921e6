import type { Notice } from '../../domain/notices.js';
import type { Locale, Translate } from '../../i18n.js';
import { escapeHtml } from '../html.js';
import { mentionHtml } from './mentions.js';

/** A notice as Telegram HTML in `locale`: every user string escaped, people mentioned. */
export function renderNotice(n: Notice, t: Translate, locale: Locale): string {
  switch (n.key) {
    case 'breach-announce':
      return t(locale, n.key, {
        id: n.id,
        severity: n.severity,
        target: n.target,
        title: escapeHtml(n.title),
      });
    case 'remind-update':
      return t(locale, n.key, {
        id: n.id,
        who: mentionHtml(n.who),
        every: n.every,
        since: n.since,
      });
  }
}
