import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** Personal calendar tokens, stored by hash only: hash → owner, and each person's current hash. */
export interface CalendarTokenStore {
  /** Makes `hash` the person's token, dropping the one before. */
  replace(person: string, hash: string): Promise<void>;
  /** Drops the person's token; false when they had none. */
  revoke(person: string): Promise<boolean>;
  /** The owner of the token with this hash, if any. */
  ownerOf(hash: string): Promise<string | undefined>;
}

export function createCalendarTokenStore(deps: { redis: Redis; keys: Keys }): CalendarTokenStore {
  const { redis, keys } = deps;
  return {
    async replace(person, hash) {
      const old = await redis.get(keys.calTokenOf(person));
      const m = redis.multi();
      if (old) m.del(keys.calToken(old));
      await m.set(keys.calToken(hash), person).set(keys.calTokenOf(person), hash).exec();
    },
    async revoke(person) {
      const old = await redis.get(keys.calTokenOf(person));
      if (!old) return false;
      await redis.multi().del(keys.calToken(old)).del(keys.calTokenOf(person)).exec();
      return true;
    },
    async ownerOf(hash) {
      return (await redis.get(keys.calToken(hash))) ?? undefined;
    },
  };
}
