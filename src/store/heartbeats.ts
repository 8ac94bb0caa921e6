import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** When each heartbeat integration last pinged (one hash: name → ms). */
export interface HeartbeatStore {
  /** The time of the last ping recorded, as stored, if any. */
  lastPing(name: string): Promise<string | undefined>;
  setLastPing(name: string, at: number): Promise<void>;
  hasPinged(name: string): Promise<boolean>;
}

export function createHeartbeatStore(deps: { redis: Redis; keys: Keys }): HeartbeatStore {
  const { redis, keys } = deps;
  const key = keys.heartbeat('last');
  return {
    async lastPing(name) {
      return (await redis.hget(key, name)) ?? undefined;
    },
    async setLastPing(name, at) {
      await redis.hset(key, name, String(at));
    },
    async hasPinged(name) {
      return (await redis.hexists(key, name)) === 1;
    },
  };
}
