import { Composer } from 'grammy';
import { formatDuration } from '../../duration.js';
import { isLocale } from '../../i18n.js';
import { escapeHtml } from '../../telegram/html.js';
import { isDmSetting } from '../../domain/subscriptions.js';
import { formatTime } from '../../timezone.js';
import { SEVERITY_EMOJI } from '../../telegram/views/incident.js';
import { SEVERITIES } from '../../domain/severity.js';
import type { Services } from '../../services.js';
import type { BotContext } from '../context.js';
import { command, commandsFor } from '../commands.js';

/** /start, /help, /status, /lang, /notify, /whoami. */
export function coreFeature(s: Services) {
  const c = new Composer<BotContext>();

  command(c, 'start', async (ctx) => {
    let extra = '';
    if (ctx.chat.type === 'private') {
      if (!ctx.person.known) {
        // as a string: Fluent would group a number's digits (4,242), and the id is meant to be pasted
        extra = ctx.tr('start-private-stranger', { id: String(ctx.person.telegramId) });
      } else {
        // a person who starts the bot gets new incidents here; a repeated /start keeps their choice
        const level = await s.dms.setDefault(ctx.person.telegramId, 'P3');
        extra = ctx.tr('start-private', { subscribed: level === 'off' ? 'no' : 'yes', level });
      }
    }
    await ctx.replyHtml(
      ctx.tr('start', {
        name: escapeHtml(ctx.person.name),
        role: ctx.tr(`role-${ctx.person.role}`),
      }) + (extra ? `\n\n${extra}` : ''),
    );
  });

  command(c, 'notify', async (ctx) => {
    if (ctx.chat.type !== 'private') return ctx.replyHtml(ctx.tr('notify-private-only'));
    if (!ctx.person.known) return ctx.replyHtml(ctx.tr('notify-stranger'));
    const arg = String(ctx.match ?? '')
      .trim()
      .toUpperCase();
    const current = (await s.dms.get(ctx.person.telegramId)) ?? 'off';
    const wanted = arg === 'ON' ? 'P3' : arg === 'OFF' ? 'off' : arg;
    if (!isDmSetting(wanted))
      return ctx.replyHtml(
        ctx.tr('notify-usage', { state: ctx.tr('notify-state', { level: current }) }),
      );
    await s.dms.set(ctx.person.telegramId, wanted);
    s.logger.info({ person: ctx.person.name, notify: wanted }, 'private notifications changed');
    return ctx.replyHtml(
      ctx.tr('notify-set', { state: ctx.tr('notify-state', { level: wanted }) }),
    );
  });

  command(c, 'help', async (ctx) => {
    const lines = commandsFor(ctx.person.role, ctx.chat.type === 'private').map(
      ({ name }) => `/${name} — ${escapeHtml(ctx.tr(`help-${name}`))}`,
    );
    await ctx.replyHtml(
      `${ctx.tr('help-title', { role: ctx.tr(`role-${ctx.person.role}`) })}\n${lines.join('\n')}`,
    );
  });

  command(c, 'status', async (ctx) => {
    const health = await s.health();
    // counters kept by the scripts: the cost does not grow with the number of incidents
    const [counts, unacked, silenced] = await Promise.all([
      s.repo.counts(),
      s.repo.oldestUnacknowledged(),
      s.repo.countSilenced(),
    ]);
    const now = s.clock.now();
    const openCount = SEVERITIES.reduce((n, sev) => n + counts.open[sev], 0);
    const bySev = SEVERITIES.map(
      (sev) => `${SEVERITY_EMOJI[sev]} ${sev}: ${counts.open[sev]}`,
    ).join(' · ');
    const ok = (b: boolean) => (b ? ctx.tr('status-ok') : ctx.tr('status-down'));
    const lines = [
      ctx.tr('status-title'),
      ctx.tr('status-redis', { state: ok(health.redis) }),
      ctx.tr('status-telegram', { state: ok(health.telegram) }),
      ctx.tr('status-version', { version: s.version, uptime: formatDuration(now - s.startedAt) }),
      ctx.tr('status-open', { count: openCount }),
      bySev,
    ];
    if (silenced > 0) lines.push(ctx.tr('status-silenced', { count: silenced }));
    if (unacked)
      lines.push(
        ctx.tr('status-oldest', {
          id: unacked.id,
          title: escapeHtml(unacked.title),
          age: formatDuration(now - unacked.createdAt),
        }),
      );
    const maint = await s.maintenance.active();
    for (const m of maint)
      lines.push(
        ctx.tr('status-maintenance', {
          until: formatTime(m.until),
          matchers: escapeHtml(
            Object.entries(m.matchers)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ') || '*',
          ),
        }),
      );
    await ctx.replyHtml(lines.join('\n'));
  });

  command(c, 'lang', async (ctx) => {
    // a group's language is everyone's: the command table asks a responder there
    const want = ctx.match.trim().toLowerCase();
    if (!isLocale(want)) {
      await ctx.replyHtml(ctx.tr('lang-usage'));
      return;
    }
    await s.setLocale(ctx.chat.id, want);
    ctx.locale = want;
    await ctx.replyHtml(ctx.tr('lang-set'));
  });

  command(c, 'whoami', async (ctx) => {
    const lines = [
      ctx.tr('whoami', {
        id: String(ctx.person.telegramId),
        chat: String(ctx.chat.id),
        role: ctx.tr(`role-${ctx.person.role}`),
      }),
      ctx.person.known
        ? ctx.tr('whoami-name', { name: escapeHtml(ctx.person.name) })
        : ctx.tr('whoami-unlisted'),
    ];
    await ctx.replyHtml(lines.join('\n'));
  });

  return c;
}
