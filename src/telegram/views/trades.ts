import type { OpsbotConfig } from '../../config.js';
import type { TradeRecord } from '../../domain/trades.js';
import type { Locale, Translate } from '../../i18n.js';
import { own } from '../../own.js';
import { formatTimeIn } from '../../timezone.js';
import { escapeHtml } from '../html.js';

/** A /cover or /swap request message in each of its states; every name escaped. */
export function createTradeView(deps: { config: OpsbotConfig; t: Translate }) {
  const { config, t } = deps;
  const mention = (name: string) => {
    const p = own(config.people, name);
    return p ? `<a href="tg://user?id=${p.telegram_id}">${escapeHtml(name)}</a>` : escapeHtml(name);
  };

  /** The request message in each state (HTML, every name escaped). */
  function render(rec: TradeRecord, locale: Locale): string {
    const zone = own(config.schedules, rec.schedule)?.rotation.handoff_tz;
    const at = (ms: number) => formatTimeIn(ms, zone);
    const vars = {
      schedule: escapeHtml(rec.schedule),
      owner: escapeHtml(rec.owner),
      requester: escapeHtml(rec.requester),
      from: at(rec.from),
      to: at(rec.to),
      other: escapeHtml(rec.other ?? ''),
      from2: rec.from2 ? at(rec.from2) : '',
      to2: rec.to2 ? at(rec.to2) : '',
      by: escapeHtml(rec.decidedBy ?? ''),
      expires: at(rec.expiresAt),
    };
    const head = t(locale, `${rec.kind}-request`, vars);
    switch (rec.state) {
      case 'pending':
        return [
          head,
          rec.kind === 'cover' && !rec.target
            ? t(locale, 'cover-ask-open', { people: rec.candidates.map(mention).join(', ') })
            : t(locale, 'trade-ask', { who: mention(rec.target) }),
          t(locale, 'trade-expires', vars),
        ].join('\n');
      case 'accepted':
        return [
          head,
          rec.kind === 'cover'
            ? t(locale, 'cover-accepted', { ...vars, from: at(rec.appliedFrom ?? rec.from) })
            : t(locale, 'swap-accepted', vars),
        ].join('\n');
      case 'declined':
        return [head, t(locale, 'trade-declined', vars)].join('\n');
      case 'expired':
        return [head, t(locale, 'trade-expired')].join('\n');
    }
  }

  return { render };
}

export type TradeView = ReturnType<typeof createTradeView>;
