import { Composer } from 'grammy';
import { formatDuration, parseDuration } from '../../duration.js';
import {
  PENDING_SILENCE_TTL_MS,
  cannotMatchEverything,
  maxSilenceMs,
  parseMatchers,
  type SuppressionStore,
} from '../../incidents/silences.js';
import { formatAmMatchers, toAmMatchers } from '../../alertmanager/client.js';
import { messageLink } from '../../alertmanager/silences.js';
import { mergePlans } from '../../store/incidents.js';
import { matchLabels } from '../../matching/re2.js';
import { escapeHtml } from '../../telegram/html.js';
import { formatTime } from '../../timezone.js';
import type { Services } from '../../services.js';
import { encodeCallback, route, unpack } from '../../telegram/callback-data.js';
import type { BotContext } from '../context.js';
import { command } from '../commands.js';
import { requireRole, stripTags } from '../roles.js';

const fmtMatchers = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) =>
      v.startsWith('=~') || v.startsWith('!~') || v.startsWith('!=') ? `${k}${v}` : `${k}=${v}`,
    )
    .join(' ') || '*';

/** Silences /silences lists (opsbot's first, then Alertmanager's); beyond them a "… and K more" line. */
const SILENCES_SHOWN = 20;

/** Open incidents a /silence preview looks at (the most recent); beyond them it says "at least". */
const PREVIEW_SCAN = 500;
/** Matching incidents named in a preview. */
const PREVIEW_NAMES = 5;

/** /silence (previewed, confirmed by its author), /silences (with Expire buttons) and /maintenance. */
export function silencesFeature(s: Services) {
  const c = new Composer<BotContext>();

  /** Parses `<duration> [matchers...] [reason]`; replies with the problem and returns undefined when wrong. */
  async function parseSuppression(ctx: BotContext, usageKey: string, requireMatchers: boolean) {
    const [dur = '', ...rest] = String(ctx.match ?? '')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    const ms = parseDuration(dur);
    if (!ms) return void (await ctx.replyHtml(ctx.tr(usageKey)));
    const max = maxSilenceMs(s.config, ctx.person.role);
    if (ms > max)
      return void (await ctx.replyHtml(
        ctx.tr('silence-too-long', {
          role: ctx.tr(`role-${ctx.person.role}`),
          max: formatDuration(max),
        }),
      ));
    const reasonAt = rest.findIndex((t) => !t.includes('='));
    const matcherTokens = reasonAt < 0 ? rest : rest.slice(0, reasonAt);
    const reason = reasonAt < 0 ? '' : rest.slice(reasonAt).join(' ');
    const parsed = parseMatchers(matcherTokens);
    if ('error' in parsed)
      return void (await ctx.replyHtml(
        parsed.problem
          ? ctx.tr('matcher-bad-regex', {
              token: escapeHtml(parsed.error),
              problem: escapeHtml(parsed.problem),
            })
          : ctx.tr('matcher-bad', { token: escapeHtml(parsed.error) }),
      ));
    if (requireMatchers && Object.keys(parsed.matchers).length === 0)
      return void (await ctx.replyHtml(ctx.tr(usageKey)));
    return { ms, matchers: parsed.matchers, reason };
  }

  command(c, 'silence', async (ctx) => {
    const p = await parseSuppression(ctx, 'silence-usage', true);
    if (!p) return;
    const shown = escapeHtml(fmtMatchers(p.matchers));
    if (!cannotMatchEverything(p.matchers))
      return void (await ctx.replyHtml(ctx.tr('silence-matches-all', { matchers: shown })));
    const until = s.clock.now() + p.ms;
    const token = await s.silences.propose({
      matchers: p.matchers,
      until,
      ...(p.reason ? { reason: p.reason } : {}),
      by: ctx.person.name,
      byId: ctx.person.telegramId,
    });
    // Bounded read: the most recent open incidents only, never the whole index.
    const recent = await s.repo.recentOpen(PREVIEW_SCAN);
    const hits = recent.filter((i) => matchLabels(p.matchers, i.labels));
    const capped = recent.length >= PREVIEW_SCAN && (await s.repo.countOpen()) > PREVIEW_SCAN;
    const lines = [
      ctx.tr('silence-preview', {
        matchers: shown,
        until: formatTime(until),
        duration: formatDuration(p.ms),
      }),
    ];
    if (p.reason) lines.push(ctx.tr('silence-preview-reason', { reason: escapeHtml(p.reason) }));
    const ams = s.amSilences.integrations();
    if (ams.length)
      lines.push(ctx.tr('silence-preview-am', { integrations: escapeHtml(ams.join(', ')) }));
    if (hits.length === 0 && !capped) lines.push(ctx.tr('silence-preview-none'));
    else
      lines.push(
        capped
          ? ctx.tr('silence-preview-atleast', { count: hits.length, scanned: PREVIEW_SCAN })
          : ctx.tr('silence-preview-count', { count: hits.length }),
      );
    for (const i of hits.slice(0, PREVIEW_NAMES))
      lines.push(`• <code>${i.id}</code> ${escapeHtml(i.title.slice(0, 80))}`);
    if (hits.length > PREVIEW_NAMES)
      lines.push(ctx.tr('silence-preview-more', { count: hits.length - PREVIEW_NAMES }));
    lines.push(
      ctx.tr('silence-preview-ask', {
        who: escapeHtml(ctx.person.name),
        minutes: PENDING_SILENCE_TTL_MS / 60_000,
      }),
    );
    await ctx.replyHtml(lines.join('\n'), {
      inline_keyboard: [
        [
          {
            text: ctx.tr('btn-silence-confirm'),
            callback_data: encodeCallback({ kind: 'silence-confirm', confirm: true, token }),
          },
          {
            text: ctx.tr('btn-cancel'),
            callback_data: encodeCallback({ kind: 'silence-confirm', confirm: false, token }),
          },
        ],
      ],
    });
  });

  c.callbackQuery(route('silence-confirm'), async (ctx) => {
    const d = unpack('silence-confirm', ctx.callbackQuery.data);
    if (!d) return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    if (!(await requireRole(ctx, 'responder'))) return;
    const gone = () =>
      ctx.answerCallbackQuery({
        text: stripTags(ctx.tr('silence-pending-gone')),
        show_alert: true,
      });
    const pending = await s.silences.pending(d.token);
    if (!pending) return gone();
    if (pending.byId !== ctx.person.telegramId) {
      await s.audit.append('silence.confirm_refused', ctx.person.name, {
        telegram_id: ctx.person.telegramId,
        author: pending.by,
      });
      return ctx.answerCallbackQuery({
        text: stripTags(ctx.tr('silence-not-yours', { who: escapeHtml(pending.by) })),
        show_alert: true,
      });
    }
    const p = await s.silences.takePending(d.token);
    if (!p) return gone();
    const done = (text: string) =>
      ctx.editMessageText(text, { parse_mode: 'HTML', reply_markup: { inline_keyboard: [] } });
    if (!d.confirm) {
      await s.audit.append('silence.cancel', ctx.person.name, {
        telegram_id: ctx.person.telegramId,
        matchers: p.matchers,
      });
      await ctx.answerCallbackQuery();
      await done(ctx.tr('silence-cancelled', { who: escapeHtml(ctx.person.name) }));
      return;
    }
    if (p.until <= s.clock.now()) return gone();
    const { entry, hset, incr } = s.silences.prepare({
      matchers: p.matchers,
      until: p.until,
      by: p.by,
      ...(p.reason ? { reason: p.reason } : {}),
    });
    // opsbot's own silence and its Alertmanager copies (durable jobs) are stored in one step
    const chat = ctx.chat ? String(ctx.chat.id) : undefined;
    const messageId = ctx.callbackQuery.message?.message_id;
    const amActor = {
      name: p.by,
      ...(ctx.from.username ? { username: ctx.from.username } : {}),
      ...(chat ? { chat } : {}),
      ...(messageId ? { messageId } : {}),
    };
    const comment = [p.reason, `opsbot /silence ${entry.id}`, messageLink(chat, messageId)]
      .filter(Boolean)
      .join(' · ');
    await s.repo.apply(
      mergePlans(
        { hset: [hset], incr: [incr] },
        ...s.amSilences.integrations().map((integration) =>
          s.amSilences.createPlan({
            origin: `s:${entry.id}`,
            integration,
            matchers: toAmMatchers(p.matchers),
            endsAt: entry.until,
            actor: amActor,
            comment,
          }),
        ),
      ),
    );
    s.timers.notify();
    await s.audit.append('silence.confirm', ctx.person.name, {
      telegram_id: ctx.person.telegramId,
      id: entry.id,
      matchers: p.matchers,
      until: entry.until,
    });
    await ctx.answerCallbackQuery({ text: stripTags(ctx.tr('silence-confirmed')) });
    await done(
      ctx.tr('silence-created', {
        matchers: escapeHtml(fmtMatchers(p.matchers)),
        until: formatTime(entry.until),
        id: entry.id,
      }),
    );
  });

  /** /maintenance applies at once (admin only, may match everything). */
  async function add(ctx: BotContext, store: SuppressionStore, kind: 'maintenance') {
    const p = await parseSuppression(ctx, `${kind}-usage`, false);
    if (!p) return;
    const entry = await store.add({
      matchers: p.matchers,
      until: s.clock.now() + p.ms,
      by: ctx.person.name,
      reason: p.reason,
    });
    await s.audit.append(`${kind}.create`, ctx.person, {
      matchers: p.matchers,
      until: entry.until,
    });
    await ctx.replyHtml(
      ctx.tr(`${kind}-created`, {
        matchers: escapeHtml(fmtMatchers(p.matchers)),
        until: formatTime(entry.until),
        id: entry.id,
      }),
    );
  }

  command(c, 'maintenance', async (ctx) => {
    await add(ctx, s.maintenance, 'maintenance');
  });

  command(c, 'silences', async (ctx) => {
    const list = [
      ...(await s.silences.active()).map((x) => ({ ...x, kind: 'silence' })),
      ...(await s.maintenance.active()).map((x) => ({ ...x, kind: 'maintenance' })),
    ];
    // Alertmanager's active silences, except those opsbot's own silences made (shown once, above)
    const mine = new Set(
      (await Promise.all(list.map((x) => s.amSilences.amIds(`s:${x.id}`)))).flat(),
    );
    const ams = await s.amSilences.active();
    const amList = ams.flatMap((a) =>
      a.silences.filter((x) => !mine.has(x.id)).map((x) => ({ ...x, integration: a.integration })),
    );
    const down = ams.filter((a) => a.error).map((a) => a.integration);
    if (list.length === 0 && amList.length === 0 && down.length === 0)
      return void (await ctx.replyHtml(ctx.tr('silences-none')));
    const lines: string[] = [];
    const buttons: { text: string; callback_data: string }[][] = [];
    for (const x of list.slice(0, SILENCES_SHOWN)) {
      lines.push(
        ctx.tr('silences-line', {
          kind: ctx.tr(`kind-${x.kind}`),
          matchers: escapeHtml(fmtMatchers(x.matchers)),
          until: formatTime(x.until),
          by: escapeHtml(x.by),
        }),
      );
      buttons.push([
        {
          text: `${ctx.tr('btn-expire')} ${fmtMatchers(x.matchers).slice(0, 30)}`,
          callback_data: encodeCallback({ kind: 'silence-expire', id: x.id }),
        },
      ]);
    }
    for (const x of amList.slice(0, Math.max(0, SILENCES_SHOWN - list.length))) {
      const matchers = formatAmMatchers(x.matchers);
      lines.push(
        ctx.tr('silences-am-line', {
          integration: escapeHtml(x.integration),
          matchers: escapeHtml(matchers.slice(0, 300)),
          until: formatTime(Date.parse(x.endsAt)),
          by: escapeHtml(x.createdBy.slice(0, 100)),
        }),
      );
      buttons.push([
        {
          text: `${ctx.tr('btn-expire')} ${matchers.slice(0, 30)}`,
          callback_data: encodeCallback({ kind: 'am-expire', id: x.id }),
        },
      ]);
    }
    const more = list.length + amList.length - lines.length;
    if (more > 0) lines.push(ctx.tr('silences-more', { count: more }));
    for (const integration of down)
      lines.push(ctx.tr('silences-am-unreachable', { integration: escapeHtml(integration) }));
    await ctx.replyHtml(`${ctx.tr('silences-title')}\n${lines.join('\n')}`, {
      inline_keyboard: buttons,
    });
  });

  c.callbackQuery(route('silence-expire'), async (ctx) => {
    const d = unpack('silence-expire', ctx.callbackQuery.data);
    if (!d) return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    if (!(await requireRole(ctx, 'responder'))) return;
    const gone =
      (await s.silences.expire(d.id)) ||
      (ctx.person.role === 'admin' && (await s.maintenance.expire(d.id)));
    if (gone) {
      await s.audit.append('silence.expire', ctx.person, { id: d.id });
      // and the Alertmanager silences it made (durable jobs, retried while Alertmanager is down)
      const plan = await s.amSilences.expireOrigin(`s:${d.id}`);
      if (plan.timers?.length) {
        await s.repo.apply(plan);
        s.timers.notify();
      }
    }
    await ctx.answerCallbackQuery({
      text: stripTags(ctx.tr(gone ? 'silence-expired' : 'silence-gone')),
    });
  });

  c.callbackQuery(route('am-expire'), async (ctx) => {
    const d = unpack('am-expire', ctx.callbackQuery.data);
    if (!d) return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    if (!(await requireRole(ctx, 'responder'))) return;
    const r = await s.amSilences.expireById(d.id);
    if (r !== 'gone')
      await s.audit.append('silence.am_expire', ctx.person, { am_id: d.id, outcome: r });
    await ctx.answerCallbackQuery({
      text: stripTags(
        ctx.tr(
          r === 'ok' ? 'silence-expired' : r === 'queued' ? 'am-expire-queued' : 'silence-gone',
        ),
      ),
    });
  });

  return c;
}
