import type { FastifyInstance } from 'fastify';
import type { Update } from 'grammy/types';
import { ValidationError } from '../errors.js';
import { safeEqual } from './auth.js';
import { HttpProblem } from './errors.js';

/**
 * Where the bot may put one Bot API call to be returned as the webhook's response body (Telegram's
 * "webhook reply"): Telegram runs it as if the bot had called it, and the bot saves a request.
 */
export interface WebhookReply {
  send(payload: string): void;
}

/**
 * `POST /telegram/webhook` (webhook mode): checks Telegram's secret-token header in constant time,
 * then hands the update to `onUpdate`. Answered 200 as soon as the handler puts a call in the webhook
 * reply (the answer to a button press; the rest of the handling goes on), else once it has been
 * handled.
 */
export function telegramWebhookRoutes(deps: {
  webhookSecret?: string;
  onUpdate?: (u: Update, reply: WebhookReply) => Promise<void>;
}) {
  return async function plugin(app: FastifyInstance) {
    app.post('/telegram/webhook', async (req, reply) => {
      const got = req.headers['x-telegram-bot-api-secret-token'];
      if (!deps.webhookSecret || typeof got !== 'string' || !safeEqual(got, deps.webhookSecret)) {
        throw new HttpProblem(401, 'bad secret token');
      }
      const u = req.body as Update | undefined;
      if (!u || typeof u.update_id !== 'number')
        throw new ValidationError('invalid update', [
          { path: 'update_id', message: 'expected a number' },
        ]);
      let body: string | undefined;
      let wake = () => {};
      const replied = new Promise<void>((r) => (wake = r));
      const handled = deps.onUpdate?.(u, {
        send(payload) {
          if (body !== undefined || reply.sent) throw new Error('webhook reply already sent');
          body = payload;
          wake();
        },
      });
      // the handler goes on after its reply left; a failure then is its own to log
      handled?.catch(() => undefined);
      await Promise.race([replied, handled]);
      if (body === undefined) return reply.status(200).send({ ok: true });
      return reply.status(200).type('application/json').send(body);
    });
  };
}
