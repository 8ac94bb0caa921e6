import { randomBytes } from 'node:crypto';
import type { Conversation, VersionedState, VersionedStateStorage } from '@grammyjs/conversations';
import { Composer, type MiddlewareFn } from 'grammy';
import { SEVERITIES, type Severity } from '../../domain/severity.js';
import type { Alert } from '../../domain/alert.js';
import { escapeHtml, trimText } from '../../telegram/html.js';
import type { Services } from '../../services.js';
import { opsbotFlavor } from '../flavor.js';
import { encodeCallback, route, unpack } from '../../telegram/callback-data.js';
import type { BotContext, InnerContext } from '../context.js';
import { command } from '../commands.js';
import { stripTags } from '../roles.js';

const TTL_S = 1800;
const ID = 'declare';

/**
 * Conversation state in Redis, one key per chat and person (so in a group only the starter's
 * updates reach their conversation), expiring after 30 minutes of silence. A restart or another
 * replica picks the conversation up where it was.
 */
function draftStorage<S>(s: Services): VersionedStateStorage<string, S> {
  return {
    read: async (k) => (await s.drafts.readConversation(k)) as VersionedState<S> | undefined,
    write: (k, state) => s.drafts.writeConversation(k, state, TTL_S),
    delete: (k) => s.drafts.deleteConversation(k),
  };
}

/** A text message that is not a command (commands such as /cancel go on to their handlers). */
const isAnswer = (ctx: InnerContext) => !!ctx.message?.text && !ctx.message.text.startsWith('/');

/**
 * /declare: a guided conversation (@grammyjs/conversations) — title → severity buttons with the
 * seed's P0–P3 meanings → affected service → confirm — that opens an incident exactly as an alert
 * would (routing, message, escalation). Updates the conversation does not want (other buttons,
 * commands, other people) pass on to the rest of the bot; /cancel leaves it.
 */
export function declareFeature(s: Services) {
  const c = new Composer<BotContext>();
  const forceReply = { force_reply: true as const, selective: true };
  const pass = { next: true };

  async function declare(
    conversation: Conversation<BotContext, InnerContext>,
    ctx: InnerContext,
    inlineTitle?: string,
  ) {
    const starter = ctx.person.name;
    let title = inlineTitle;
    if (!title) {
      await ctx.reply(ctx.tr('declare-ask-title'), {
        parse_mode: 'HTML',
        reply_markup: forceReply,
      });
      const answer = await conversation.waitUntil(isAnswer, pass);
      title = trimText(answer.message!.text!.trim(), 300);
    }

    await ctx.replyHtml(ctx.tr('declare-ask-severity'), {
      inline_keyboard: SEVERITIES.map((sev) => [
        {
          text: ctx.tr(`sev-meaning-${sev}`),
          callback_data: encodeCallback({ kind: 'declare', step: 'sev', value: sev }),
        },
      ]),
    });
    const press = await conversation.waitForCallbackQuery(
      SEVERITIES.map((sev) => encodeCallback({ kind: 'declare', step: 'sev', value: sev })),
      pass,
    );
    const severity = unpack('declare', press.callbackQuery.data)!.value as Severity;
    await press.answerCallbackQuery({ text: severity });

    await ctx.reply(ctx.tr('declare-ask-service'), {
      parse_mode: 'HTML',
      reply_markup: forceReply,
    });
    const svc = (await conversation.waitUntil(isAnswer, pass)).message!.text!.trim();
    const service = svc === '-' ? '' : trimText(svc.replace(/\s+/g, '-'), 60);

    await ctx.replyHtml(
      ctx.tr('declare-confirm', {
        title: escapeHtml(title),
        severity,
        service: escapeHtml(service || '—'),
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
    const confirm = await conversation.waitForCallbackQuery(
      ['yes', 'no'].map((value) => encodeCallback({ kind: 'declare', step: 'ok', value })),
      pass,
    );
    if (unpack('declare', confirm.callbackQuery.data)?.value !== 'yes') {
      await confirm.answerCallbackQuery();
      await confirm.replyHtml(ctx.tr('declare-cancelled'));
      return;
    }
    // the side effects run once, not on every replay of the conversation
    const id = await conversation.external(async () => {
      const dedup = `manual:${randomBytes(8).toString('hex')}`;
      const alert: Alert = {
        source: 'manual',
        integration: '',
        dedupKey: dedup,
        fingerprint: dedup,
        status: 'firing',
        title,
        severity,
        labels: { ...(service ? { service } : {}), declared_by: starter },
        annotations: {},
        links: [],
      };
      const res = await s.intake.ingest([alert]);
      const incId = res.incidents[0] ?? '?';
      await s.audit.append(
        'incident.declare',
        { name: starter, telegramId: ctx.person.telegramId },
        { id: incId, severity },
      );
      return incId;
    });
    await confirm.answerCallbackQuery({ text: id });
    await confirm.replyHtml(ctx.tr('declare-done', { id }));
  }

  // only updates a conversation may want read its state: an incident button skips the storage read
  const conv = c.filter((ctx) => !ctx.callbackQuery || !!ctx.callbackQuery.data?.startsWith('dc:'));
  // the conversations plugin is imported by the first update that may concern a conversation (a
  // message, a /declare button), not at start: a bot that only pages never loads it
  let plugin: Promise<MiddlewareFn<BotContext>> | undefined;
  const loadPlugin = async (): Promise<MiddlewareFn<BotContext>> => {
    const { conversations, createConversation } = await import('@grammyjs/conversations');
    const mw = new Composer<BotContext>();
    mw.use(
      conversations<BotContext, InnerContext>({
        storage: {
          type: 'key',
          version: 2,
          getStorageKey: (ctx) =>
            ctx.chat && ctx.from ? `${ctx.chat.id}:${ctx.from.id}` : undefined,
          adapter: draftStorage(s),
        },
        plugins: [opsbotFlavor(s)],
      }),
    );
    mw.use(createConversation(declare, { id: ID, maxMillisecondsToWait: TTL_S * 1000 }));
    return mw.middleware();
  };
  conv.use(async (ctx, next) => {
    plugin ??= loadPlugin().catch((e: unknown) => {
      plugin = undefined; // try again on the next update
      throw e;
    });
    const mw = await plugin;
    return mw(ctx, next);
  });

  command(conv, 'declare', async (ctx) => {
    const inline = String(ctx.match ?? '').trim();
    if (ctx.conversation.active(ID)) await ctx.conversation.exit(ID);
    await ctx.conversation.enter(ID, inline ? trimText(inline, 300) : undefined);
  });

  command(conv, 'cancel', async (ctx) => {
    const had = !!ctx.conversation.active(ID);
    if (had) await ctx.conversation.exit(ID);
    await ctx.replyHtml(ctx.tr(had ? 'declare-cancelled' : 'declare-nothing'));
  });

  // a declare button that no conversation of the presser wants: someone else's, or a stale one
  c.callbackQuery(route('declare'), (ctx) =>
    ctx.answerCallbackQuery({ text: stripTags(ctx.tr('declare-not-yours')) }),
  );

  return c;
}
