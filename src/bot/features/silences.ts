import { Composer } from 'grammy';
import { parseDuration } from '../../duration.js';
import { parseMatchers, type SuppressionStore } from '../../incidents/silences.js';
import { escapeHtml } from '../../notify/html.js';
import { formatTime } from '../../notify/render.js';
import type { Services } from '../../services.js';
import { decodeCallback, encodeCallback } from '../callback-data.js';
import type { BotContext } from '../context.js';
import { requireRole, stripTags } from '../roles.js';

const fmtMatchers = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) =>
      v.startsWith('=~') || v.startsWith('!~') || v.startsWith('!=') ? `${k}${v}` : `${k}=${v}`,
    )
    .join(' ') || '*';

/** Parses `<duration> [matchers...]`; replies with the usage and returns undefined when wrong. */
async function parseSuppression(ctx: BotContext, usageKey: string, requireMatchers: boolean) {
  const [dur = '', ...rest] = String(ctx.match ?? '')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  const ms = parseDuration(dur);
  if (!ms || ms > 30 * 86_400_000) return void (await ctx.replyHtml(ctx.tr(usageKey)));
  const reasonAt = rest.findIndex((t) => !t.includes('='));
  const matcherTokens = reasonAt < 0 ? rest : rest.slice(0, reasonAt);
  const reason = reasonAt < 0 ? '' : rest.slice(reasonAt).join(' ');
  const parsed = parseMatchers(matcherTokens);
  if ('error' in parsed)
    return void (await ctx.replyHtml(ctx.tr('matcher-bad', { token: escapeHtml(parsed.error) })));
  if (requireMatchers && Object.keys(parsed.matchers).length === 0)
    return void (await ctx.replyHtml(ctx.tr(usageKey)));
  return { ms, matchers: parsed.matchers, reason };
}

/** /silence, /silences (with Expire buttons) and /maintenance. */
export function silencesFeature(s: Services) {
  const c = new Composer<BotContext>();

  async function add(
    ctx: BotContext,
    store: SuppressionStore,
    kind: 'silence' | 'maintenance',
    requireMatchers: boolean,
  ) {
    const p = await parseSuppression(ctx, `${kind}-usage`, requireMatchers);
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

  c.command('silence', async (ctx) => {
    if (!(await requireRole(ctx, 'responder'))) return;
    await add(ctx, s.silences, 'silence', true);
  });

  c.command('maintenance', async (ctx) => {
    if (!(await requireRole(ctx, 'admin'))) return;
    await add(ctx, s.maintenance, 'maintenance', false);
  });

  c.command('silences', async (ctx) => {
    const list = [
      ...(await s.silences.active()).map((x) => ({ ...x, kind: 'silence' })),
      ...(await s.maintenance.active()).map((x) => ({ ...x, kind: 'maintenance' })),
    ];
    if (list.length === 0) return void (await ctx.replyHtml(ctx.tr('silences-none')));
    const lines = list.map((x) =>
      ctx.tr('silences-line', {
        kind: ctx.tr(`kind-${x.kind}`),
        matchers: escapeHtml(fmtMatchers(x.matchers)),
        until: formatTime(x.until),
        by: escapeHtml(x.by),
      }),
    );
    const keyboard = {
      inline_keyboard: list.map((x) => [
        {
          text: `${ctx.tr('btn-expire')} ${fmtMatchers(x.matchers).slice(0, 30)}`,
          callback_data: encodeCallback({ kind: 'silence-expire', id: x.id }),
        },
      ]),
    };
    await ctx.replyHtml(`${ctx.tr('silences-title')}\n${lines.join('\n')}`, keyboard);
  });

  c.callbackQuery(/^sx:/, async (ctx) => {
    const d = decodeCallback(ctx.callbackQuery.data);
    if (!d || d.kind !== 'silence-expire')
      return ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') });
    if (!(await requireRole(ctx, 'responder'))) return;
    const gone =
      (await s.silences.expire(d.id)) ||
      (ctx.person.role === 'admin' && (await s.maintenance.expire(d.id)));
    if (gone) await s.audit.append('silence.expire', ctx.person, { id: d.id });
    await ctx.answerCallbackQuery({
      text: stripTags(ctx.tr(gone ? 'silence-expired' : 'silence-gone')),
    });
  });

  return c;
}
