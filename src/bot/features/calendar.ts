import { Composer } from 'grammy';
import { createCalendarTokens, schedulesOf } from '../../escalation/calendar.js';
import { escapeHtml } from '../../telegram/html.js';
import type { Services } from '../../services.js';
import { createCalendarTokenStore } from '../../store/calendar-tokens.js';
import type { BotContext } from '../context.js';
import { command } from '../commands.js';

/**
 * /calendar (private chat only): mints the person's calendar token and answers with their feed URLs;
 * a new /calendar replaces the token, `/calendar revoke` drops it.
 */
export function calendarFeature(s: Services) {
  const c = new Composer<BotContext>();
  const tokens = createCalendarTokens({ store: createCalendarTokenStore(s) });

  command(c, 'calendar', async (ctx) => {
    if (ctx.chat.type !== 'private') return ctx.replyHtml(ctx.tr('calendar-private-only'));
    if (!ctx.person.known) return ctx.replyHtml(ctx.tr('notify-stranger'));
    const arg = String(ctx.match ?? '')
      .trim()
      .toLowerCase();
    const me = ctx.person.name;
    if (arg === 'revoke') {
      const had = await tokens.revoke(me);
      await s.audit.append('calendar.revoke', ctx.person, { had });
      return ctx.replyHtml(ctx.tr(had ? 'calendar-revoked' : 'calendar-none'));
    }
    if (arg) return ctx.replyHtml(ctx.tr('calendar-usage'));
    if (!s.publicUrl) return ctx.replyHtml(ctx.tr('calendar-no-url'));
    const token = await tokens.mint(me);
    await s.audit.append('calendar.mint', ctx.person);
    const url = (path: string) =>
      `<code>${escapeHtml(`${s.publicUrl}/api/v1/${path}.ics?token=${token}`)}</code>`;
    const lines = [
      ctx.tr('calendar-minted'),
      ctx.tr('calendar-feed-person', { url: url(`people/${encodeURIComponent(me)}`) }),
      ...schedulesOf(s.config, me).map((name) =>
        ctx.tr('calendar-feed-schedule', {
          schedule: escapeHtml(name),
          url: url(`schedules/${encodeURIComponent(name)}`),
        }),
      ),
      ctx.tr('calendar-keep-secret'),
    ];
    return ctx.replyHtml(lines.join('\n'));
  });

  return c;
}
