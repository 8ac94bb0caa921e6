import { Composer, InputFile } from 'grammy';
import { parseDuration } from '../../duration.js';
import { buildPostmortem } from '../../reports/postmortem.js';
import { renderStatsText, statsFromAggregates } from '../../reports/stats.js';
import { escapeHtml, trimHtml, trimText } from '../../telegram/html.js';
import type { Services } from '../../services.js';
import type { BotContext } from '../context.js';
import { command } from '../commands.js';
import { requireRole, stripTags } from '../roles.js';
import { describeResult, incidentFromCommand } from './incidents.js';
import { chatKeyOf, parseChatKey } from '../../incidents/routing.js';
import { CHECKLIST_ITEMS } from '../../incidents/checklist.js';
import { renderChecklist } from '../../telegram/views/checklist.js';
import { route, unpack } from '../../telegram/callback-data.js';
import {
  renderStatusUpdate,
  UPDATE_TEMPLATES,
  updatePhaseKeyboard,
} from '../../telegram/views/status-update.js';
import { own } from '../../own.js';
import type { OutboxEntry } from '../../domain/outbox.js';

const DAY_MS = 86_400_000;
/** The longest /stats window: daily aggregates are kept this long (and a little more). */
export const STATS_MAX_DAYS = 90;

/** Splits text into pieces of at most `n` characters, at line ends where possible. */
function chunk(text: string, n: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const line of text.split('\n')) {
    if (cur.length + line.length + 1 > n && cur) {
      out.push(cur);
      cur = '';
    }
    cur += (cur ? '\n' : '') + line.slice(0, n);
  }
  if (cur) out.push(cur);
  return out;
}

/** The forum topic the command came from, so a photo or file answers there (as ctx.reply does). */
function inTopic(ctx: BotContext): { message_thread_id?: number } {
  return ctx.msg?.is_topic_message ? { message_thread_id: ctx.msg.message_thread_id } : {};
}

/** How long /update keeps its text waiting for the phase button. */
const DRAFT_TTL_S = 600;

/** /update (status updates), /audit. */
export function commsFeature(s: Services) {
  const c = new Composer<BotContext>();

  /** Posts a status update (phase, text, who, when) to the incident chats and the stakeholder chat. */
  async function postUpdate(
    ctx: BotContext,
    id: string,
    template: string,
    text: string,
  ): Promise<void> {
    const inc = await s.repo.get(id);
    if (!inc) return void (await ctx.replyHtml(ctx.tr('inc-unknown', { id: escapeHtml(id) })));
    const body = trimText(text, 2000);
    const r = await s.actions.note(id, ctx.person.name, `${template}: ${body}`, 'update');
    if (!r.ok) return void (await ctx.replyHtml(describeResult(ctx, id, r, 'did-note')));
    const chats = new Set(inc.chats);
    const sh = s.config.stakeholder_chat
      ? own(s.config.chats, s.config.stakeholder_chat)
      : undefined;
    if (sh) chats.add(chatKeyOf(sh));
    const outbox: OutboxEntry[] = [];
    for (const chat of chats) {
      const locale = await s.localeOf(parseChatKey(chat).chatId);
      outbox.push({
        chat,
        kind: 'text',
        data: {
          inc: id, // a P0/P1's status update goes in the outbox's first lane
          text: renderStatusUpdate(
            inc,
            { template, text: body, who: ctx.person.name, at: s.clock.now() },
            s.t,
            locale,
          ),
        },
      });
    }
    await s.repo.apply({ outbox });
    s.outbox.notify();
    await ctx.replyHtml(ctx.tr('did-update', { id }));
  }

  command(c, 'update', async (ctx) => {
    const { id, rest } = incidentFromCommand(ctx);
    if (!id || !rest) return void (await ctx.replyHtml(ctx.tr('update-usage')));
    const m = /^(investigating|identified|monitoring|resolved)\b[:\s-]*(.*)$/is.exec(rest);
    if (m && m[2]) return postUpdate(ctx, id, m[1]!.toLowerCase(), m[2]);
    // no phase given: ask for it with buttons, keeping the text in Redis for 10 minutes
    const inc = await s.repo.get(id);
    if (!inc) return void (await ctx.replyHtml(ctx.tr('inc-unknown', { id: escapeHtml(id) })));
    await s.drafts.saveUpdate(
      ctx.chat.id,
      ctx.person.telegramId,
      inc.seq,
      rest.slice(0, 2000),
      DRAFT_TTL_S,
    );
    await ctx.replyHtml(
      ctx.tr('update-choose', { id }),
      updatePhaseKeyboard(inc.seq, s.t, ctx.locale),
    );
  });

  c.callbackQuery(route('update'), async (ctx) => {
    const d = unpack('update', ctx.callbackQuery.data);
    if (!d || !UPDATE_TEMPLATES.includes(d.template))
      return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    if (!(await requireRole(ctx, 'responder'))) return;
    const text = await s.drafts.takeUpdate(ctx.chat?.id ?? 0, ctx.person.telegramId, d.seq);
    if (!text) return ctx.answerCallbackQuery({ text: stripTags(ctx.tr('update-expired')) });
    await ctx.answerCallbackQuery();
    await postUpdate(ctx, `INC-${d.seq}`, d.template, text);
  });

  c.callbackQuery(route('checklist'), async (ctx) => {
    const d = unpack('checklist', ctx.callbackQuery.data);
    if (!d || d.item >= CHECKLIST_ITEMS.length)
      return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    if (!(await requireRole(ctx, 'responder'))) return;
    const id = `INC-${d.seq}`;
    const inc = await s.repo.get(id);
    if (!inc) return ctx.answerCallbackQuery({ text: stripTags(ctx.tr('inc-unknown', { id })) });
    const { ticked, state } = await s.checklists.toggle(id, d.item, ctx.person.name);
    const item = CHECKLIST_ITEMS[d.item]!;
    await s.repo.apply({
      timeline: [
        {
          inc: id,
          entry: {
            t: s.clock.now(),
            type: 'checklist',
            actor: ctx.person.name,
            text: s.t('en', item),
            data: { item: d.item, done: ticked },
          },
        },
      ],
    });
    const r = renderChecklist(inc, state, s.t, ctx.locale);
    await ctx.answerCallbackQuery({ text: ticked ? '✅' : '⬜' });
    await ctx.editMessageText(r.text, { parse_mode: 'HTML', reply_markup: r.keyboard });
  });

  command(c, 'postmortem', async (ctx) => {
    const { id } = incidentFromCommand(ctx);
    if (!id) return void (await ctx.replyHtml(ctx.tr('need-incident-id', { cmd: 'postmortem' })));
    const inc = await s.repo.get(id);
    if (!inc) return void (await ctx.replyHtml(ctx.tr('inc-unknown', { id: escapeHtml(id) })));
    const md = buildPostmortem(inc, await s.repo.timeline(id), {
      ackTargetMs: s.config.severities[inc.severity]?.ack_within,
      now: s.clock.now(),
    });
    await s.audit.append('postmortem.draft', ctx.person, { id });
    try {
      // a document is nicer; the emulator and some proxies lack sendDocument, so fall back to messages
      // bonus methods go through the plain client (no auto-retry): a failure falls back at once
      await s.api.sendDocument(
        ctx.chat.id,
        new InputFile(Buffer.from(md, 'utf8'), `postmortem-${id}.md`),
        {
          caption: ctx.tr('postmortem-caption', { id }),
          parse_mode: 'HTML',
          ...inTopic(ctx),
        },
      );
      return;
    } catch (e) {
      ctx.log.info({ err: e }, 'sendDocument unavailable; sending the postmortem as messages');
    }
    const chunks = chunk(md, 3500);
    for (let i = 0; i < chunks.length; i++) {
      await ctx.replyHtml(
        `${i === 0 ? `${ctx.tr('postmortem-caption', { id })}\n` : ''}<pre>${escapeHtml(chunks[i]!)}</pre>`,
      );
    }
  });

  command(c, 'stats', async (ctx) => {
    const arg = String(ctx.match ?? '').trim() || '7d';
    const span = parseDuration(arg);
    if (!span) return void (await ctx.replyHtml(ctx.tr('stats-usage')));
    if (span > STATS_MAX_DAYS * DAY_MS)
      return void (await ctx.replyHtml(ctx.tr('stats-too-long', { days: STATS_MAX_DAYS })));
    const now = s.clock.now();
    // whole UTC days of incident creation, today included, read from the daily aggregates
    const today = Math.floor(now / DAY_MS);
    const days = Math.max(1, Math.ceil(span / DAY_MS));
    const agg = await s.repo.aggregates(today - days + 1, today);
    const ackTargets = Object.fromEntries(
      Object.entries(s.config.severities).map(([k, v]) => [k, v?.ack_within]),
    );
    const stats = statsFromAggregates(agg, {
      since: (today - days + 1) * DAY_MS,
      now,
      ackTargets,
    });
    const label = ctx.tr('stats-label', { span: arg });
    const table = `${ctx.tr('stats-title', { span: arg })}\n<pre>${escapeHtml(renderStatsText(stats, label))}</pre>`;
    try {
      // the chart stack (chart.js + a native canvas, ~25 MB) loads on the first /stats, not at start
      const { renderStatsChart } = await import('../../reports/chart.js');
      const png = await renderStatsChart(stats, label);
      await s.api.sendPhoto(ctx.chat.id, new InputFile(png, 'stats.png'), {
        caption: ctx.tr('stats-title', { span: arg }),
        parse_mode: 'HTML',
        ...inTopic(ctx),
      });
    } catch (e) {
      ctx.log.info({ err: e }, 'photo unavailable; stats as text only');
    }
    await ctx.replyHtml(trimHtml(table));
  });

  command(c, 'audit', async (ctx) => {
    const n = Math.min(Math.max(Number(String(ctx.match ?? '').trim()) || 10, 1), 50);
    const rows = await s.audit.recent(n);
    if (rows.length === 0) return void (await ctx.replyHtml(ctx.tr('audit-none')));
    const lines = rows.map((r) => {
      const { id: _id, t, action, actor, actor_id: actorId, ...rest } = r;
      const extra = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      return `<code>${new Date(t).toISOString().slice(0, 19).replace('T', ' ')}</code> ${escapeHtml(action)} · ${escapeHtml(actor)}${actorId !== undefined ? ` <code>[${Number(actorId)}]</code>` : ''} ${escapeHtml(trimText(extra, 200))}`;
    });
    await ctx.replyHtml(
      trimHtml(`${ctx.tr('audit-title', { n: rows.length })}\n${lines.join('\n')}`),
    );
  });

  return c;
}
