import { Composer } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { formatDuration } from '../../duration.js';
import { messageLink, type AmActor } from '../../alertmanager/silences.js';
import type { ActionResult, ExtraEffects } from '../../incidents/actions.js';
import { normalizeIncidentId, type Incident } from '../../domain/incident.js';
import { maxSilenceMs } from '../../incidents/silences.js';
import { SEVERITIES, type Severity } from '../../domain/severity.js';
import { escapeHtml } from '../../telegram/html.js';
import { formatTime } from '../../timezone.js';
import { incidentKeyboard } from '../../telegram/views/incident.js';
import type { Services } from '../../services.js';
import { route, unpack } from '../../telegram/callback-data.js';
import type { BotContext } from '../context.js';
import { command } from '../commands.js';
import { requireRole, stripTags } from '../roles.js';
import { renderDetails } from '../../telegram/views/details.js';
import { renderIncidentList } from '../../telegram/views/lists.js';
import { own } from '../../own.js';

const PAGE = 8;

/**
 * The incident a command means: its first argument, the incident message it replies to, or the
 * incident whose war-room topic it was written in.
 */
export function incidentFromCommand(ctx: BotContext): { id?: string; rest: string } {
  const args = String(ctx.match ?? '').trim();
  const [first = '', ...rest] = args.split(/\s+/);
  const id = normalizeIncidentId(first);
  if (id) return { id, rest: args.slice(first.length).trim() };
  const replied = ctx.msg?.reply_to_message;
  // an incident posted with its image carries the card as the photo's caption
  const text = replied?.text ?? replied?.caption ?? '';
  const m = /\bINC-(\d+)\b/.exec(text);
  return { id: m ? `INC-${m[1]}` : ctx.topicIncident, rest: args || rest.join(' ') };
}

/** A short text telling the outcome of an action, for button answers and command replies. */
export function describeResult(
  ctx: BotContext,
  id: string,
  r: ActionResult,
  okKey: string,
  extra: Record<string, string> = {},
): string {
  if (r.ok) return ctx.tr(okKey, { id, who: escapeHtml(ctx.person.name), ...extra });
  switch (r.reason) {
    case 'not_found':
      return ctx.tr('inc-unknown', { id: escapeHtml(id) });
    case 'resolved':
      return ctx.tr('inc-already-resolved', { id });
    case 'invalid':
      return ctx.tr('inc-invalid-state', { id, state: ctx.tr(`state-${r.inc.state}`) });
    case 'already':
      return r.inc.state === 'acknowledged' && r.inc.ackBy
        ? ctx.tr('inc-already-acked', {
            id,
            who: escapeHtml(r.inc.ackBy),
            at: formatTime(r.inc.ackAt ?? 0),
          })
        : r.inc.state === 'resolved'
          ? ctx.tr('inc-already-resolved', { id })
          : ctx.tr('inc-already', { id });
  }
}

const SILENCE_CHOICES: Record<string, number> = {
  s1h: 3_600_000,
  s4h: 14_400_000,
  s24h: 86_400_000,
  sres: Infinity,
};

/** Incident buttons and the commands that do the same by text. */
export function incidentsFeature(s: Services) {
  const c = new Composer<BotContext>();
  const now = () => s.clock.now();

  /** Who acts, where, and on which message (an Alertmanager silence names and links them). */
  function actor(ctx: BotContext): AmActor {
    const chatId = ctx.chat?.id;
    const messageId =
      ctx.callbackQuery?.message?.message_id ?? ctx.msg?.reply_to_message?.message_id;
    return {
      name: ctx.person.name,
      ...(ctx.from?.username ? { username: ctx.from.username } : {}),
      ...(chatId !== undefined ? { chat: String(chatId) } : {}),
      ...(messageId ? { messageId } : {}),
    };
  }

  /** The incident Silence button also silences its group in Alertmanager (integration with api_url). */
  async function amSilenceEffects(
    ctx: BotContext,
    id: string,
    until: number,
    label: string,
  ): Promise<ExtraEffects | undefined> {
    const inc = await s.repo.get(id);
    const integration = inc && s.amSilences.integrationOf(inc);
    if (!inc || !integration) return undefined;
    const matchers = await s.amSilences.groupMatchers(inc);
    const a = actor(ctx);
    const comment = [`silenced in opsbot ${label}`, id, messageLink(a.chat, a.messageId)]
      .filter(Boolean)
      .join(' · ');
    return () =>
      s.amSilences.createPlan({
        origin: `b:${id}`,
        integration,
        matchers,
        endsAt: until,
        actor: a,
        comment,
        inc: id,
      });
  }

  async function run(
    ctx: BotContext,
    id: string,
    action: string,
    rest: string,
    seen?: Incident,
  ): Promise<string> {
    const who = ctx.person.name;
    const meta = seen ? { seen } : undefined;
    switch (action) {
      case 'ack': {
        const a = { ...actor(ctx), ...meta };
        return describeResult(ctx, id, await s.actions.acknowledge(id, who, a), 'did-ack');
      }
      case 'uns': {
        const extra = await s.amSilences.expireOrigin(`b:${id}`);
        const r = await s.actions.unsilence(id, who, extra);
        s.timers.notify();
        return describeResult(ctx, id, r, 'did-unsilence');
      }
      case 'unack':
        return describeResult(ctx, id, await s.actions.unacknowledge(id, who, meta), 'did-unack');
      case 'res':
        return describeResult(
          ctx,
          id,
          await s.actions.resolve(id, who, rest || undefined, meta),
          'did-resolve',
        );
      case 'esc': {
        const r = await s.actions.escalate(id, who);
        if (!r.ok && r.reason === 'no_policy') return ctx.tr('inc-no-policy', { id });
        return describeResult(ctx, id, r as ActionResult, 'did-escalate');
      }
      default: {
        const ms = SILENCE_CHOICES[action];
        if (ms === undefined) return ctx.tr('button-unknown');
        // silences.max_duration applies here too: "until resolved" lasts at most the role's maximum
        const max = maxSilenceMs(s.config, ctx.person.role);
        if (Number.isFinite(ms) && ms > max)
          return ctx.tr('silence-too-long', {
            role: ctx.tr(`role-${ctx.person.role}`),
            max: formatDuration(max),
          });
        const until = now() + Math.min(ms, max);
        const label = Number.isFinite(ms)
          ? `until ${formatTime(until)}`
          : `until resolved, at most until ${formatTime(until)}`;
        const extra = await amSilenceEffects(ctx, id, until, label);
        const r = await s.actions.silence(id, who, until, label, extra);
        if (extra) s.timers.notify();
        return describeResult(ctx, id, r, 'did-silence');
      }
    }
  }

  c.callbackQuery(route('inc', { except: ['rb'] }), async (ctx) => {
    const d = unpack('inc', ctx.callbackQuery.data);
    if (!d) return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    const id = `INC-${d.seq}`;
    if (d.action === 'det') {
      const inc = await s.repo.get(id);
      if (!inc) return ctx.answerCallbackQuery({ text: stripTags(ctx.tr('inc-unknown', { id })) });
      await ctx.answerCallbackQuery();
      await ctx.replyHtml(renderDetails(inc, await s.repo.timeline(id), s.t, ctx.locale));
      return;
    }
    if (!(await requireRole(ctx, 'responder'))) return;
    if (d.action === 'sil' || d.action === 'back') {
      const inc = await s.repo.get(id);
      if (!inc) return ctx.answerCallbackQuery({ text: stripTags(ctx.tr('inc-unknown', { id })) });
      if (inc.state === 'resolved')
        return ctx.answerCallbackQuery({ text: stripTags(ctx.tr('inc-already-resolved', { id })) });
      await ctx.answerCallbackQuery();
      const rc = { t: s.t, locale: ctx.locale, now: now() };
      await ctx.editMessageReplyMarkup({
        reply_markup: incidentKeyboard(inc, rc, d.action === 'sil' ? 'silence' : undefined),
      });
      return;
    }
    // the incident read ahead while the press was claimed (bot/press-reads.ts), if it was
    const seen = await s.pressReads.take(ctx.update, id);
    const text = await run(ctx, id, d.action, '', seen);
    await ctx.answerCallbackQuery({ text: stripTags(text) });
    ctx.log.info({ inc: id, action: d.action, by: ctx.person.name }, 'incident button');
  });

  const simple = (cmd: string, action: string) =>
    command(c, cmd, async (ctx) => {
      const { id, rest } = incidentFromCommand(ctx);
      if (!id) return void (await ctx.replyHtml(ctx.tr('need-incident-id', { cmd })));
      await ctx.replyHtml(await run(ctx, id, action, rest));
    });
  simple('ack', 'ack');
  simple('unack', 'unack');
  simple('resolve', 'res');
  simple('escalate', 'esc');

  command(c, 'note', async (ctx) => {
    const { id, rest } = incidentFromCommand(ctx);
    if (!id || !rest) return void (await ctx.replyHtml(ctx.tr('note-usage')));
    const r = await s.actions.note(id, ctx.person.name, rest.slice(0, 2000));
    if (r.ok) {
      // a 👍 on the command keeps a busy group quiet; a reply only where reactions fail
      try {
        await ctx.react('👍');
        return;
      } catch (e) {
        ctx.log.info({ err: e }, 'setMessageReaction failed; acknowledging the note with a reply');
      }
    }
    await ctx.replyHtml(describeResult(ctx, id, r, 'did-note'));
  });

  command(c, 'sev', async (ctx) => {
    const { id, rest } = incidentFromCommand(ctx);
    const sev = rest.trim().toUpperCase() as Severity;
    if (!id || !SEVERITIES.includes(sev)) return void (await ctx.replyHtml(ctx.tr('sev-usage')));
    const r = await s.actions.setSeverity(id, ctx.person.name, sev);
    await ctx.replyHtml(describeResult(ctx, id, r, 'did-sev', { sev }));
  });

  command(c, 'assign', async (ctx) => {
    const { id, rest } = incidentFromCommand(ctx);
    if (!id) return void (await ctx.replyHtml(ctx.tr('assign-usage')));
    const target = rest.trim().replace(/^@/, '') || ctx.person.name;
    if (!own(s.config.people, target)) {
      return void (await ctx.replyHtml(
        ctx.tr('assign-unknown', {
          who: escapeHtml(target),
          people: Object.keys(s.config.people).join(', '),
        }),
      ));
    }
    const r = await s.actions.assign(id, ctx.person.name, target);
    await ctx.replyHtml(describeResult(ctx, id, r, 'did-assign', { assignee: escapeHtml(target) }));
  });

  command(c, 'incident', async (ctx) => {
    const { id } = incidentFromCommand(ctx);
    if (!id) return void (await ctx.replyHtml(ctx.tr('need-incident-id', { cmd: 'incident' })));
    const inc = await s.repo.get(id);
    if (!inc) return void (await ctx.replyHtml(ctx.tr('inc-unknown', { id: escapeHtml(id) })));
    await ctx.replyHtml(renderDetails(inc, await s.repo.timeline(id), s.t, ctx.locale));
  });

  async function listPage(
    ctx: BotContext,
    page: number,
  ): Promise<{ text: string; keyboard?: InlineKeyboardMarkup }> {
    // only the rows shown are read, from the index kept in /incidents order (severity, then age)
    const first = await s.repo.openPage(Math.max(0, page) * PAGE, PAGE);
    if (first.total === 0) return { text: ctx.tr('incidents-none') };
    const pages = Math.ceil(first.total / PAGE);
    const p = Math.min(Math.max(0, page), pages - 1);
    const { incidents: rows } =
      p === Math.max(0, page) && first.incidents.length
        ? first
        : await s.repo.openPage(p * PAGE, PAGE);
    return renderIncidentList(rows, { total: first.total, page: p, pages }, s.t, ctx.locale);
  }

  command(c, 'incidents', async (ctx) => {
    const r = await listPage(ctx, 0);
    await ctx.replyHtml(r.text, r.keyboard);
  });

  c.callbackQuery(route('list'), async (ctx) => {
    const d = unpack('list', ctx.callbackQuery.data);
    if (!d) return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    const r = await listPage(ctx, d.page);
    await ctx.answerCallbackQuery();
    await ctx.editMessageText(r.text, {
      parse_mode: 'HTML',
      reply_markup: r.keyboard ?? { inline_keyboard: [] },
    });
  });

  return c;
}
