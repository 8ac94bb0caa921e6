import type { WebhookReplyEnvelope } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '../logger.js';
import type { UpdateClaims } from '../store/update-claims.js';
import type { OpsBot } from './bot.js';

/**
 * Feeds updates to the bot exactly once: an update id is claimed in Redis before it is handled, so
 * several replicas (webhook behind a load balancer, or a retried webhook delivery) never act twice.
 * Updates of one chat run in order; different chats run concurrently.
 */
export function createUpdateDispatcher(deps: {
  bot: OpsBot;
  claims: UpdateClaims;
  logger: Logger;
  /** Starts the reads an update's handler will want, so they travel with its claim. */
  readAhead?: (u: Update) => void;
}) {
  const { bot, claims, logger } = deps;
  const chains = new Map<string, Promise<void>>();
  const inflight = new Set<Promise<void>>();
  let polling = false;
  let pollLoop: Promise<void> | undefined;

  function chatOf(u: Update): string {
    const chat =
      u.message?.chat.id ??
      u.callback_query?.message?.chat.id ??
      u.edited_message?.chat.id ??
      u.my_chat_member?.chat.id;
    return String(chat ?? 'none');
  }

  async function handleOnce(u: Update, reply?: WebhookReplyEnvelope): Promise<void> {
    deps.readAhead?.(u);
    if (!(await claims.claim(u.update_id))) return;
    await bot.handleUpdate(u, reply);
  }

  /**
   * Queues an update behind earlier ones of its chat; resolves when it has been handled. `reply`
   * (webhook mode) takes the one call the bot may answer in the webhook's response (see createBot).
   */
  function dispatch(u: Update, reply?: WebhookReplyEnvelope): Promise<void> {
    const chat = chatOf(u);
    const prev = chains.get(chat) ?? Promise.resolve();
    const p = prev
      .then(() => handleOnce(u, reply))
      .catch((e: unknown) => logger.error({ err: e, update: u.update_id }, 'update failed'));
    chains.set(chat, p);
    inflight.add(p);
    void p.finally(() => {
      inflight.delete(p);
      if (chains.get(chat) === p) chains.delete(chat);
    });
    return p;
  }

  return {
    dispatch,
    /** Long polling. Against an emulator that answers at once, an empty answer waits briefly before asking again. */
    startPolling(opts: { idleMs?: number; timeoutSec?: number } = {}) {
      if (polling) return;
      polling = true;
      let offset = 0;
      pollLoop = (async () => {
        while (polling) {
          const began = Date.now();
          try {
            const updates = await bot.api.getUpdates({
              offset,
              timeout: opts.timeoutSec ?? 25,
              limit: 100,
            });
            for (const u of updates) {
              offset = Math.max(offset, u.update_id + 1);
              void dispatch(u);
            }
            if (updates.length === 0 && Date.now() - began < 100) {
              await new Promise((r) => setTimeout(r, opts.idleMs ?? 50));
            }
          } catch (e) {
            if (!polling) break;
            logger.warn({ err: e }, 'getUpdates failed; retrying');
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      })();
    },
    /** Stops taking updates and waits for the ones in flight. */
    async stop() {
      polling = false;
      await pollLoop;
      await Promise.allSettled([...inflight]);
    },
    idle: () => Promise.allSettled([...inflight]),
  };
}

export type UpdateDispatcher = ReturnType<typeof createUpdateDispatcher>;
