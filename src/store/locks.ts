import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import type { Scripts } from './scripts.js';

/** Named leases (runbook locks): taken with SET NX PX, renewed and released only by their holder. */
export function createLockStore(deps: { redis: Redis; keys: Keys; scripts: Scripts }) {
  const { redis, keys, scripts } = deps;
  return {
    /** True when the lock was free and is now held by `holder` for `leaseMs`. */
    async acquire(name: string, holder: string, leaseMs: number): Promise<boolean> {
      return (await redis.set(keys.lock(name), holder, 'PX', leaseMs, 'NX')) === 'OK';
    },

    /** The current holder's value, or null when the lock is free. */
    holder(name: string): Promise<string | null> {
      return redis.get(keys.lock(name));
    },

    async release(name: string, holder: string): Promise<void> {
      await scripts.lockRelease(name, holder);
    },

    /** Extends the lease; false when `holder` no longer holds the lock. */
    async renew(name: string, holder: string, leaseMs: number): Promise<boolean> {
      return scripts.lockRenew(name, holder, leaseMs);
    },
  };
}

export type LockStore = ReturnType<typeof createLockStore>;
