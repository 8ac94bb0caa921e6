import type { FastifyInstance } from 'fastify';
import type { Update } from 'grammy/types';
import { ValidationError } from '../errors.js';
import { safeEqual } from './auth.js';
import { HttpProblem } from './errors.js';

/**
 * `POST /telegram/webhook` (webhook mode): checks Telegram's secret-token header in constant time,
 * then hands the update to `onUpdate`; answered 200 once it has been handled.
 */
export function telegramWebhookRoutes(deps: {
  webhookSecret?: string;
  onUpdate?: (u: Update) => Promise<void>;
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
      await deps.onUpdate?.(u);
      return reply.status(200).send({ ok: true });
    });
  };
}
