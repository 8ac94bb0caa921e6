import type { MiddlewareFn } from 'grammy';
import { escapeHtml } from '../telegram/html.js';
import type { Services } from '../services.js';
import type { BotContext } from './context.js';
import { stripTags } from './roles.js';

/** Commands a stranger may use in a private chat: enough to learn their id and ask to be added. */
const OPEN_COMMANDS = new Set(['start', 'whoami']);

/**
 * The command a message carries, lower-cased, when it is addressed to this bot (`/cmd` or
 * `/cmd@thisbot`); undefined for anything else.
 */
export function commandOf(ctx: BotContext): string | undefined {
  const msg = ctx.message ?? ctx.channelPost;
  const e = msg?.entities?.[0];
  if (!msg?.text || e?.type !== 'bot_command' || e.offset !== 0) return undefined;
  const [cmd = '', at] = msg.text.slice(1, e.length).toLowerCase().split('@');
  if (at !== undefined && at !== ctx.me.username.toLowerCase()) return undefined;
  return cmd;
}

/**
 * Who may see what, decided once, early, for every update:
 * - a chat listed in `chats`: anyone present reads (they see the group's messages anyway); roles
 *   still gate every action;
 * - a private chat: people listed in `people` get everything their role allows; anyone else gets
 *   `/start`, `/whoami`, and for anything else their Telegram id and "ask an admin to add you";
 * - any other group or channel: when the bot is added (or asked anything) it gives the chat id to
 *   paste into the config and leaves.
 */
export function accessControl(s: Services): MiddlewareFn<BotContext> {
  const configured = new Set(Object.values(s.config.chats).map((c) => c.id));

  async function leave(ctx: BotContext, chatId: number) {
    try {
      await ctx.api.leaveChat(chatId);
      ctx.log.info({ chat: chatId }, 'left a chat that is not in the config');
    } catch (e) {
      ctx.log.warn({ chat: chatId, err: e }, 'leaveChat failed');
    }
  }

  async function refuseChat(ctx: BotContext, chatId: number) {
    const id = String(chatId);
    try {
      if (ctx.callbackQuery)
        await ctx.answerCallbackQuery({
          text: stripTags(ctx.tr('access-unknown-chat-button', { id })),
          show_alert: true,
        });
      else
        await ctx.api.sendMessage(chatId, ctx.tr('access-unknown-chat', { id }), {
          parse_mode: 'HTML',
        });
    } catch (e) {
      ctx.log.warn({ chat: chatId, err: e }, 'could not tell a chat it is not configured');
    }
    await leave(ctx, chatId);
  }

  return async (ctx, next) => {
    const chat = ctx.chat;

    // membership changes of the bot itself: only "added to a chat we do not know" needs an answer
    if (ctx.myChatMember) {
      const st = ctx.myChatMember.new_chat_member.status;
      if (
        chat &&
        chat.type !== 'private' &&
        !configured.has(chat.id) &&
        (st === 'member' || st === 'administrator')
      )
        await refuseChat(ctx, chat.id);
      return;
    }

    if (chat && chat.type !== 'private') {
      if (configured.has(chat.id)) return next();
      // a group or channel nobody configured: answer commands and buttons, ignore chatter
      if (ctx.callbackQuery || commandOf(ctx) !== undefined) await refuseChat(ctx, chat.id);
      return;
    }

    // a private chat (or an update without one): people listed in `people` only
    if (ctx.person.known) return next();
    const cmd = commandOf(ctx);
    if (cmd !== undefined && OPEN_COMMANDS.has(cmd)) return next();
    const id = String(ctx.person.telegramId);
    if (ctx.callbackQuery)
      await ctx.answerCallbackQuery({
        text: stripTags(ctx.tr('access-private-button', { id })),
        show_alert: true,
      });
    else if (ctx.message) await ctx.replyHtml(ctx.tr('access-private-stranger', { id }));
  };
}

/**
 * Per-person command limit (`limits.commands_per_minute`, default 20) in any sliding minute of the
 * injected clock, counted in Redis so replicas share it. Commands count, and so does every message
 * in a private chat (each would get an answer). The first one over the limit gets one polite
 * refusal; later ones are dropped silently until the oldest counted command is a minute old. Button presses do not
 * count: they are the incident's critical path, each is answered in place, and every press is
 * role-checked.
 */
export function commandRateLimit(s: Services): MiddlewareFn<BotContext> {
  const max = s.config.limits.commands_per_minute;
  return async (ctx, next) => {
    const counted = commandOf(ctx) !== undefined || (ctx.chat?.type === 'private' && ctx.message);
    if (!ctx.from || !counted) return next();
    const hit = await s.rateLimits.commandHit(ctx.from.id, max, 60_000);
    if (hit.allowed) return next();
    if (hit.firstRefusal) {
      ctx.log.info({ user: ctx.from.id, max }, 'command rate limit reached');
      await ctx.replyHtml(ctx.tr('rate-limited', { name: escapeHtml(ctx.person.name), max }));
    }
  };
}
