import { randomBytes } from 'node:crypto';
import { Composer } from 'grammy';
import { SEVERITIES, type Alert, type Severity } from '../../intake/types.js';
import { escapeHtml, trimText } from '../../notify/html.js';
import type { Services } from '../../services.js';
import { decodeCallback, encodeCallback } from '../callback-data.js';
import type { BotContext } from '../context.js';
import { requireRole, stripTags } from '../roles.js';

interface DeclareState {
  step: 'title' | 'severity' | 'service' | 'confirm';
  title?: string;
  severity?: Severity;
  service?: string;
  startedBy: string;
}

const TTL_S = 1800;

/**
 * /declare: a guided conversation (title → severity → service → confirm) that opens an incident
 * exactly as an alert would. Its state lives in Redis per chat and person, so it survives a restart,
 * and in a group only the starter's answers count. /cancel leaves it.
 */
export function declareFeature(s: Services) {
  const c = new Composer<BotContext>();
  const key = (ctx: BotContext) => s.keys.conversation(ctx.chat!.id, ctx.person.telegramId);
  const load = async (ctx: BotContext) => {
    const raw = await s.redis.get(key(ctx));
    return raw ? (JSON.parse(raw) as DeclareState) : undefined;
  };
  const save = (ctx: BotContext, st: DeclareState) =>
    s.redis.set(key(ctx), JSON.stringify(st), 'EX', TTL_S);
  const forceReply = { force_reply: true as const, selective: true };

  async function ask(ctx: BotContext, st: DeclareState) {
    switch (st.step) {
      case 'title':
        await ctx.reply(ctx.tr('declare-ask-title'), {
          parse_mode: 'HTML',
          reply_markup: forceReply,
        });
        return;
      case 'severity':
        await ctx.replyHtml(ctx.tr('declare-ask-severity'), {
          inline_keyboard: SEVERITIES.map((sev) => [
            {
              text: ctx.tr(`sev-meaning-${sev}`),
              callback_data: encodeCallback({ kind: 'declare', step: 'sev', value: sev }),
            },
          ]),
        });
        return;
      case 'service':
        await ctx.reply(ctx.tr('declare-ask-service'), {
          parse_mode: 'HTML',
          reply_markup: forceReply,
        });
        return;
      case 'confirm':
        await ctx.replyHtml(
          ctx.tr('declare-confirm', {
            title: escapeHtml(st.title ?? ''),
            severity: st.severity ?? 'P3',
            service: escapeHtml(st.service || '—'),
          }),
          {
            inline_keyboard: [
              [
                {
                  text: ctx.tr('btn-confirm'),
                  callback_data: encodeCallback({ kind: 'declare', step: 'ok', value: 'yes' }),
                },
                {
                  text: ctx.tr('btn-cancel'),
                  callback_data: encodeCallback({ kind: 'declare', step: 'ok', value: 'no' }),
                },
              ],
            ],
          },
        );
    }
  }

  c.command('declare', async (ctx) => {
    if (!(await requireRole(ctx, 'responder'))) return;
    const st: DeclareState = { step: 'title', startedBy: ctx.person.name };
    const inline = String(ctx.match ?? '').trim();
    if (inline) {
      st.title = trimText(inline, 300);
      st.step = 'severity';
    }
    await save(ctx, st);
    await ask(ctx, st);
  });

  c.command('cancel', async (ctx) => {
    const had = await s.redis.del(key(ctx));
    await ctx.replyHtml(ctx.tr(had ? 'declare-cancelled' : 'declare-nothing'));
  });

  c.on('message:text', async (ctx, next) => {
    if (ctx.msg.text.startsWith('/')) return next();
    const st = await load(ctx);
    if (!st || (st.step !== 'title' && st.step !== 'service')) return next();
    const text = ctx.msg.text.trim();
    if (st.step === 'title') {
      if (!text) return ask(ctx, st);
      st.title = trimText(text, 300);
      st.step = 'severity';
    } else {
      st.service = text === '-' ? '' : trimText(text.replace(/\s+/g, '-'), 60);
      st.step = 'confirm';
    }
    await save(ctx, st);
    await ask(ctx, st);
  });

  c.callbackQuery(/^dc:/, async (ctx) => {
    const d = decodeCallback(ctx.callbackQuery.data);
    const st = await load(ctx);
    if (!d || d.kind !== 'declare' || !st) {
      return ctx.answerCallbackQuery({ text: stripTags(ctx.tr('declare-not-yours')) });
    }
    if (d.step === 'sev' && st.step === 'severity' && SEVERITIES.includes(d.value as Severity)) {
      st.severity = d.value as Severity;
      st.step = 'service';
      await save(ctx, st);
      await ctx.answerCallbackQuery({ text: d.value });
      await ask(ctx, st);
      return;
    }
    if (d.step === 'ok' && st.step === 'confirm') {
      await s.redis.del(key(ctx));
      if (d.value !== 'yes') {
        await ctx.answerCallbackQuery();
        await ctx.replyHtml(ctx.tr('declare-cancelled'));
        return;
      }
      const dedup = `manual:${randomBytes(8).toString('hex')}`;
      const alert: Alert = {
        source: 'manual',
        integration: '',
        dedupKey: dedup,
        fingerprint: dedup,
        status: 'firing',
        title: st.title ?? 'Declared incident',
        severity: st.severity ?? 'P3',
        labels: { ...(st.service ? { service: st.service } : {}), declared_by: st.startedBy },
        annotations: {},
        links: [],
      };
      const res = await s.intake.ingest([alert]);
      const id = res.incidents[0] ?? '?';
      await s.audit.append('incident.declare', ctx.person.name, { id, severity: alert.severity });
      await ctx.answerCallbackQuery({ text: id });
      await ctx.replyHtml(ctx.tr('declare-done', { id }));
      return;
    }
    await ctx.answerCallbackQuery({ text: stripTags(ctx.tr('declare-not-yours')) });
  });

  return c;
}
