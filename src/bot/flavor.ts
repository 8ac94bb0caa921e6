import type { MiddlewareFn } from 'grammy';
import type { Services } from '../services.js';
import type { InnerContext } from './context.js';
import { topicIncidentOf } from './features/warroom.js';
import { personOf } from './roles.js';

/**
 * Fills opsbot's context flavor: services, the acting person, the chat's language, a logger per
 * update (made on first use) and HTML replies. Installed on the bot and, as a plugin, inside every
 * conversation.
 */
export function opsbotFlavor(services: Services): MiddlewareFn<InnerContext> {
  return async (ctx, next) => {
    ctx.services = services;
    const from = ctx.from ?? { id: 0, first_name: 'unknown' };
    ctx.person = personOf(services.config, from);
    const chatId = ctx.chat?.id;
    ctx.locale = chatId !== undefined ? await services.localeOf(chatId) : services.config.locale;
    // made when first used: a pino child with opsbot's redaction costs a few % of a button press,
    // and almost no update logs anything
    let log: InnerContext['log'] | undefined;
    Object.defineProperty(ctx, 'log', {
      get: () =>
        (log ??= services.logger.child({
          update: ctx.update.update_id,
          chat: chatId,
          user: from.id,
        })),
      configurable: true,
    });
    ctx.tr = (key, vars) => services.t(ctx.locale, key, vars);
    ctx.topicIncident = await topicIncidentOf(services, ctx);
    ctx.replyHtml = (text, keyboard) =>
      ctx.reply(text, {
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        ...(keyboard ? { reply_markup: keyboard } : {}),
        ...(ctx.msg?.message_thread_id && ctx.msg.is_topic_message
          ? { message_thread_id: ctx.msg.message_thread_id }
          : {}),
      });
    await next();
  };
}
