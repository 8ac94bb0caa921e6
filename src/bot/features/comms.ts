import { Composer } from 'grammy';
import { escapeHtml, trimHtml, trimText } from '../../notify/html.js';
import { formatTime } from '../../notify/render.js';
import type { Services } from '../../services.js';
import type { BotContext } from '../context.js';
import { requireRole } from '../roles.js';
import { describeResult, incidentFromCommand } from './incidents.js';

/** /update (status updates), /audit. */
export function commsFeature(s: Services) {
  const c = new Composer<BotContext>();

  c.command('update', async (ctx) => {
    if (!(await requireRole(ctx, 'responder'))) return;
    const { id, rest } = incidentFromCommand(ctx);
    if (!id || !rest) return void (await ctx.replyHtml(ctx.tr('update-usage')));
    const inc = await s.repo.get(id);
    if (!inc) return void (await ctx.replyHtml(ctx.tr('inc-unknown', { id: escapeHtml(id) })));
    const r = await s.actions.note(id, ctx.person.name, trimText(rest, 2000), 'update');
    if (!r.ok) return void (await ctx.replyHtml(describeResult(ctx, id, r, 'did-note')));
    const text = ctx.tr('update-post', {
      id,
      severity: inc.severity,
      title: escapeHtml(inc.title),
      state: ctx.tr(`state-${inc.state}`),
      text: escapeHtml(trimText(rest, 2000)),
      who: escapeHtml(ctx.person.name),
      at: formatTime(s.clock.now()),
    });
    const chats = new Set(inc.chats);
    const sh = s.config.stakeholder_chat ? s.config.chats[s.config.stakeholder_chat] : undefined;
    if (sh) chats.add(sh.thread_id ? `${sh.id}:${sh.thread_id}` : String(sh.id));
    await s.repo.apply({
      outbox: [...chats].map((chat) => ({ chat, kind: 'text', data: { text } })),
    });
    s.outbox.notify();
    await ctx.replyHtml(ctx.tr('did-update', { id }));
  });

  c.command('audit', async (ctx) => {
    if (!(await requireRole(ctx, 'admin'))) return;
    const n = Math.min(Math.max(Number(String(ctx.match ?? '').trim()) || 10, 1), 50);
    const rows = await s.audit.recent(n);
    if (rows.length === 0) return void (await ctx.replyHtml(ctx.tr('audit-none')));
    const lines = rows.map((r) => {
      const { id: _id, t, action, actor, ...rest } = r;
      const extra = Object.entries(rest)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      return `<code>${new Date(t).toISOString().slice(0, 19).replace('T', ' ')}</code> ${escapeHtml(action)} · ${escapeHtml(actor)} ${escapeHtml(trimText(extra, 200))}`;
    });
    await ctx.replyHtml(
      trimHtml(`${ctx.tr('audit-title', { n: rows.length })}\n${lines.join('\n')}`),
    );
  });

  return c;
}
