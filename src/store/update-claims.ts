import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** Claims of Telegram update ids, so each update is handled once across replicas and retries. */
export interface UpdateClaims {
  /** True for the first claim of `updateId` within a day; false when it was already claimed. */
  claim(updateId: number): Promise<boolean>;
}

export function createUpdateClaims(deps: { redis: Redis; keys: Keys }): UpdateClaims {
  const { redis, keys } = deps;
  return {
    async claim(updateId) {
      return (await redis.set(keys.updateSeen(updateId), '1', 'EX', 86_400, 'NX')) === 'OK';
    },
  };
}
