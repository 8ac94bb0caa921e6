import { autoRetry } from '@grammyjs/auto-retry';
import { Bot, type Composer } from 'grammy';
import './branch.js';
import type { UserFromGetMe } from 'grammy/types';
import type { Services } from '../services.js';
import type { BotContext } from './context.js';
import { opsbotFlavor } from './flavor.js';
import { accessControl, commandRateLimit } from './access.js';
import { coreFeature } from './features/core.js';
import { incidentsFeature } from './features/incidents.js';
import { silencesFeature } from './features/silences.js';
import { oncallFeature } from './features/oncall.js';
import { declareFeature } from './features/declare.js';
import { runbooksFeature } from './features/runbooks.js';
import { commsFeature } from './features/comms.js';
import { warRoomFeature } from './features/warroom.js';
import { tradesFeature } from './features/trades.js';
import { calendarFeature } from './features/calendar.js';

const FEATURES: [string, (s: Services) => Composer<BotContext>][] = [
  ['core', coreFeature],
  ['declare', declareFeature],
  ['incidents', incidentsFeature],
  ['silences', silencesFeature],
  ['oncall', oncallFeature],
  ['runbooks', runbooksFeature],
  ['comms', commsFeature],
  ['warroom', warRoomFeature],
  ['trades', tradesFeature],
  ['calendar', calendarFeature],
];

/**
 * Builds the grammY bot: identity, language and HTML helpers on every update, then one composer per
 * feature, each behind its own error boundary so a failing feature answers with an error, never crashes.
 */
export function createBot(
  services: Services,
  opts: { token: string; apiRoot: string; botInfo?: UserFromGetMe },
) {
  const bot = new Bot<BotContext>(opts.token, {
    client: {
      apiRoot: opts.apiRoot,
      // webhook mode: the answer to a button press goes back in the webhook's response (Telegram's
      // "webhook reply"), one request less per press; its result is only `true`, which nobody reads.
      // Everything else (replies whose message id matters, edits) stays an ordinary call.
      canUseWebhookReply: (method) => method === 'answerCallbackQuery',
    },
    ...(opts.botInfo ? { botInfo: opts.botInfo } : {}),
  });
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 30 }));

  bot.use(async (ctx, next) => {
    services.metrics.updates.inc({
      type: ctx.callbackQuery ? 'callback_query' : ctx.message ? 'message' : 'other',
    });
    await next();
  });
  bot.use(opsbotFlavor(services));
  // before any feature: the per-person command limit, then who may see what in this chat
  bot.use(commandRateLimit(services));
  bot.use(accessControl(services));

  for (const [name, feature] of FEATURES) {
    bot
      .errorBoundary(async (err) => {
        const ctx = err.ctx;
        ctx.log.error({ feature: name, err: err.error }, 'feature failed');
        try {
          if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: ctx.tr('error-generic') });
          else await ctx.replyHtml(ctx.tr('error-generic'));
        } catch {
          /* the error reply itself failed; already logged */
        }
      })
      .use(feature(services));
  }

  // unknown buttons (stale keyboards, forged data) still get an answer so the client stops spinning
  bot.on('callback_query:data', (ctx) =>
    ctx.answerCallbackQuery({ text: ctx.tr('button-unknown') }),
  );

  bot.catch((err) => {
    services.logger.error({ err: err.error }, 'update failed');
  });
  return bot;
}

export type OpsBot = ReturnType<typeof createBot>;
