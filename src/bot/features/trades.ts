import { Composer } from 'grammy';
import { parseDuration } from '../../duration.js';
import { TRADE_HORIZON_MS, type PlannedTrade, type TradeProblem } from '../../escalation/trades.js';
import { escapeHtml } from '../../telegram/html.js';
import { own } from '../../own.js';
import type { Services } from '../../services.js';
import { encodeCallback, route, unpack } from '../../telegram/callback-data.js';
import type { BotContext } from '../context.js';
import { command } from '../commands.js';
import { requireRole, stripTags } from '../roles.js';

/** /cover and /swap: shift trades asked for in a chat, decided by Accept / Decline buttons. */
export function tradesFeature(s: Services) {
  const c = new Composer<BotContext>();

  const args = (ctx: BotContext) =>
    String(ctx.match ?? '')
      .trim()
      .split(/\s+/)
      .filter(Boolean);

  const lists = () => ({
    schedules: escapeHtml(Object.keys(s.config.schedules).join(', ') || '—'),
    people: escapeHtml(Object.keys(s.config.people).join(', ') || '—'),
  });

  async function problem(ctx: BotContext, p: TradeProblem, vars: Record<string, string>) {
    await ctx.replyHtml(
      ctx.tr(`trade-problem-${p}`, {
        ...lists(),
        ...vars,
        days: String(TRADE_HORIZON_MS / 86_400_000),
      }),
    );
  }

  /** Stores the request and posts it with Accept / Decline. */
  async function post(ctx: BotContext, plan: PlannedTrade) {
    const thread =
      ctx.msg?.is_topic_message && ctx.msg.message_thread_id ? `:${ctx.msg.message_thread_id}` : '';
    const rec = await s.trades.create(plan, ctx.person, `${ctx.chat!.id}${thread}`);
    const msg = (await ctx.replyHtml(s.trades.render(rec, ctx.locale), {
      inline_keyboard: [
        [
          {
            text: ctx.tr('btn-trade-accept'),
            callback_data: encodeCallback({ kind: 'trade', accept: true, id: rec.id }),
          },
          {
            text: ctx.tr('btn-trade-decline'),
            callback_data: encodeCallback({ kind: 'trade', accept: false, id: rec.id }),
          },
        ],
      ],
    })) as { message_id: number };
    await s.trades.attachMessage(rec.id, msg.message_id);
  }

  command(c, 'cover', async (ctx) => {
    const [schedule = '', dur = '', person, ...rest] = args(ctx);
    const ms = parseDuration(dur);
    if (!schedule || !ms || ms > 30 * 86_400_000 || rest.length)
      return void (await ctx.replyHtml(ctx.tr('cover-usage', lists())));
    const plan = await s.trades.planCover(schedule, ctx.person.name, ms, person);
    if (typeof plan === 'string')
      return problem(ctx, plan, {
        schedule: escapeHtml(schedule),
        person: escapeHtml(person ?? ''),
      });
    await post(ctx, plan);
  });

  command(c, 'swap', async (ctx) => {
    const [schedule = '', date = '', person = '', ...rest] = args(ctx);
    if (!schedule || !date || !person || rest.length)
      return void (await ctx.replyHtml(ctx.tr('swap-usage', lists())));
    const plan = await s.trades.planSwap(schedule, ctx.person.name, date, person);
    if (typeof plan === 'string')
      return problem(ctx, plan, {
        schedule: escapeHtml(schedule),
        person: escapeHtml(person),
        date: escapeHtml(date),
        zone: escapeHtml(own(s.config.schedules, schedule)?.rotation.handoff_tz ?? 'UTC'),
      });
    await post(ctx, plan);
  });

  c.callbackQuery(route('trade'), async (ctx) => {
    const d = unpack('trade', ctx.callbackQuery.data);
    if (!d) return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    if (!(await requireRole(ctx, 'responder'))) return;
    const { outcome, rec } = await s.trades.decide(d.id, ctx.person, d.accept);
    const alert = (key: string, vars: Record<string, string> = {}) =>
      ctx.answerCallbackQuery({ text: stripTags(ctx.tr(key, vars)), show_alert: true });
    switch (outcome) {
      case 'gone':
      case 'expired':
        return alert('trade-gone');
      case 'done':
        return alert('trade-done');
      case 'self':
        return alert('trade-self');
      case 'forbidden':
        return alert('trade-not-yours', {
          who: rec?.target || ctx.tr('trade-members', { schedule: rec?.schedule ?? '' }),
        });
      case 'declined_one':
        return ctx.answerCallbackQuery({ text: stripTags(ctx.tr('trade-declined-one')) });
      case 'accepted':
      case 'declined':
        await ctx.answerCallbackQuery({
          text: stripTags(
            ctx.tr(outcome === 'accepted' ? 'trade-accepted-answer' : 'trade-declined-answer'),
          ),
        });
        if (rec)
          await ctx.editMessageText(s.trades.render(rec, ctx.locale), {
            parse_mode: 'HTML',
            reply_markup: { inline_keyboard: [] },
          });
        return;
    }
  });

  return c;
}
