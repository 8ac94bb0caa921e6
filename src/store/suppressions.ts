import type { Redis } from 'ioredis';
import type { PendingSilence, Suppression, SuppressionSnapshot } from '../domain/suppression.js';
import type { Keys } from './keys.js';

/**
 * The stored silences or maintenance windows (a hash id → JSON entry) and the pending /silence
 * previews. Every change bumps the suppression version, which tells intake's cache to reload.
 */
export interface SuppressionRecords {
  /** Every stored entry, expired ones included. */
  all(): Promise<Suppression[]>;
  /** Deletes entries by id (expired ones: no version bump, nothing active changes). */
  drop(ids: string[]): Promise<void>;
  /** Stores an entry and bumps the version, in one transaction. */
  put(entry: Suppression): Promise<void>;
  /**
   * The writes storing `entry` inside a larger atomic plan: its hash field and the version bump
   * (leaving the bump out would let alerts through until another change).
   */
  putPlan(entry: Suppression): {
    hset: { key: string; field: string; value: string };
    incr: { key: string; by: number };
  };
  /** Deletes an entry and bumps the version; false when there was none. */
  remove(id: string): Promise<boolean>;
  /** Stores a pending silence under `token` for `ttlMs`. */
  putPending(token: string, p: PendingSilence, ttlMs: number): Promise<void>;
  getPending(token: string): Promise<PendingSilence | undefined>;
  /** Takes the pending silence once (GETDEL): of two presses, one gets it. */
  takePending(token: string): Promise<PendingSilence | undefined>;
}

export function createSuppressionRecords(
  deps: { redis: Redis; keys: Keys },
  kind: 'silences' | 'maintenance',
): SuppressionRecords {
  const { redis, keys } = deps;
  const key = kind === 'silences' ? keys.silences() : keys.maintenance();
  const parsePending = (raw: string | null) =>
    raw ? (JSON.parse(raw) as PendingSilence) : undefined;
  return {
    async all() {
      return Object.values(await redis.hgetall(key)).map((v) => JSON.parse(v) as Suppression);
    },
    async drop(ids) {
      if (ids.length) await redis.hdel(key, ...ids);
    },
    async put(entry) {
      await redis
        .multi()
        .hset(key, entry.id, JSON.stringify(entry))
        .incr(keys.suppressionVersion())
        .exec();
    },
    putPlan(entry) {
      return {
        hset: { key, field: entry.id, value: JSON.stringify(entry) },
        incr: { key: keys.suppressionVersion(), by: 1 },
      };
    },
    async remove(id) {
      const res = await redis.multi().hdel(key, id).incr(keys.suppressionVersion()).exec();
      return Number(res?.[0]?.[1] ?? 0) > 0;
    },
    async putPending(token, p, ttlMs) {
      await redis.set(keys.silencePending(token), JSON.stringify(p), 'PX', ttlMs);
    },
    async getPending(token) {
      return parsePending(await redis.get(keys.silencePending(token)));
    },
    async takePending(token) {
      return parsePending(await redis.getdel(keys.silencePending(token)));
    },
  };
}

/**
 * Reads silences, maintenance windows, DM subscriptions and the version every change to them bumps,
 * in one round trip (see SuppressionSnapshot).
 */
export async function loadSuppressionSnapshot(
  redis: Redis,
  keys: Keys,
): Promise<SuppressionSnapshot> {
  const res =
    (await redis
      .multi()
      .get(keys.suppressionVersion())
      .hgetall(keys.silences())
      .hgetall(keys.maintenance())
      .hgetall(keys.dmSubs())
      .exec()) ?? [];
  for (const [err] of res) if (err) throw err;
  const list = (i: number) =>
    Object.values((res[i]?.[1] as Record<string, string> | undefined) ?? {}).map(
      (v) => JSON.parse(v) as Suppression,
    );
  return {
    version: (res[0]?.[1] as string | null) ?? '0',
    silences: list(1),
    maintenance: list(2),
    dmSubs: (res[3]?.[1] as Record<string, string> | undefined) ?? {},
  };
}
