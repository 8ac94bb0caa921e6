import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/**
 * Short-lived, per-person state of unfinished work: guided conversations (/declare) and status
 * update text waiting for its phase button (/update). Each value expires on its own.
 */
export interface DraftStore {
  /** A conversation's saved state (JSON), by its storage key `<chat id>:<user id>`. */
  readConversation(storageKey: string): Promise<unknown>;
  writeConversation(storageKey: string, state: unknown, ttlSec: number): Promise<void>;
  deleteConversation(storageKey: string): Promise<void>;
  /** Keeps the text of a status update until its phase is chosen. */
  saveUpdate(
    chatId: number,
    userId: number,
    seq: number,
    text: string,
    ttlSec: number,
  ): Promise<void>;
  /** The waiting text, removed as it is read (one press posts it once); null when expired. */
  takeUpdate(chatId: number, userId: number, seq: number): Promise<string | null>;
}

export function createDraftStore(deps: { redis: Redis; keys: Keys }): DraftStore {
  const { redis, keys } = deps;
  return {
    async readConversation(storageKey) {
      const raw = await redis.get(keys.conversation(storageKey));
      return raw ? (JSON.parse(raw) as unknown) : undefined;
    },
    async writeConversation(storageKey, state, ttlSec) {
      await redis.set(keys.conversation(storageKey), JSON.stringify(state), 'EX', ttlSec);
    },
    async deleteConversation(storageKey) {
      await redis.del(keys.conversation(storageKey));
    },
    async saveUpdate(chatId, userId, seq, text, ttlSec) {
      await redis.set(keys.updateDraft(chatId, userId, seq), text, 'EX', ttlSec);
    },
    takeUpdate(chatId, userId, seq) {
      return redis.getdel(keys.updateDraft(chatId, userId, seq));
    },
  };
}
