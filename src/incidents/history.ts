import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { createWorkerLoop } from '../loop.js';
import type { Keys } from '../store/keys.js';
import type { Scripts } from '../store/scripts.js';

/**
 * The data layout this version writes: 2 = counters, state indexes and daily aggregates; 3 = counts
 * read from the state indexes, without the `cnt` hash and the `incs:open` / `incs:all` indexes.
 */
export const SCHEMA_VERSION = 3;
const DAY_MS = 86_400_000;
/** Daily aggregates older than this many days are dropped (/stats reads at most 90). */
export const AGGREGATE_DAYS = 92;

/**
 * The history of incidents over time: the start-up migration that counts data stored by an older
 * version, and retention, which deletes resolved incidents older than `retention.resolved` and old
 * daily aggregates, in bounded batches.
 */
export function createHistory(deps: {
  redis: Redis;
  keys: Keys;
  scripts: Scripts;
  clock: Clock;
  logger: Logger;
  retentionMs: number;
  batch?: number;
  /** Real ms between compaction passes when there is nothing left to do. */
  intervalMs?: number;
}) {
  const { redis, keys, scripts, clock, logger } = deps;
  const batch = deps.batch ?? 500;
  let migrated = false;

  /**
   * Brings data stored by an older version up to SCHEMA_VERSION. Before 2: walks `incs:all` (which
   * versions before 3 kept) with ZSCAN in batches, counting every incident not counted yet
   * (ix_migrate.lua). Before 3: drops what version 2 kept and nothing reads any more (the `cnt`
   * hash, `incs:open`, `incs:all`; UNLINK frees them off the main thread). Then records the version.
   * Resumable: the ZSCAN cursor is kept, and an incident is never counted twice.
   */
  async function migrate(): Promise<{ migrated: number; from: number }> {
    const from = Number((await redis.get(keys.schemaVersion())) ?? 0) || 0;
    if (from >= SCHEMA_VERSION) {
      migrated = true;
      return { migrated: 0, from };
    }
    logger.info({ from, to: SCHEMA_VERSION }, 'migrating stored incidents to counters and indexes');
    let count = 0;
    if (from < 2) {
      let cursor = (await redis.get(keys.migrationCursor())) ?? '0';
      do {
        const [next, flat] = await redis.zscan(keys.all(), cursor, 'COUNT', batch);
        const ids = flat.filter((_, i) => i % 2 === 0);
        if (ids.length) count += await scripts.ixMigrate(clock.now(), ids);
        cursor = next;
        await redis.set(keys.migrationCursor(), cursor);
      } while (cursor !== '0');
    }
    await redis.unlink(keys.counters(), keys.open(), keys.all());
    await redis.set(keys.schemaVersion(), String(SCHEMA_VERSION));
    await redis.del(keys.migrationCursor());
    logger.info({ migrated: count }, 'migration done');
    migrated = true;
    return { migrated: count, from };
  }

  /** One bounded retention pass: at most one batch of incidents and a few days of aggregates. */
  async function compactOnce(): Promise<{ deleted: number; more: boolean }> {
    const now = clock.now();
    const deleted = await scripts.ixCompact(now, now - deps.retentionMs, batch);
    // daily aggregates past the longest /stats window
    const last = Math.floor(now / DAY_MS) - AGGREGATE_DAYS;
    let floor = Number(await redis.get(keys.aggFloor()));
    if (!Number.isFinite(floor) || floor <= 0) {
      // the oldest incident stored: the lowest number of the three state indexes
      const pipe = redis.pipeline();
      for (const st of ['triggered', 'acknowledged', 'resolved'] as const)
        pipe.zrange(keys.stateIndex(st), 0, 0, 'WITHSCORES');
      let oldest: string | undefined;
      let low = Infinity;
      for (const [err, r] of (await pipe.exec()) ?? []) {
        const [id, score] = err ? [] : (r as string[]);
        if (id && Number(score) < low) [oldest, low] = [id, Number(score)];
      }
      const created = oldest ? Number(await redis.hget(keys.incident(oldest), 'created_at')) : NaN;
      floor = Number.isFinite(created) && created > 0 ? Math.floor(created / DAY_MS) : last;
    }
    const upTo = Math.min(last, floor + 30);
    if (upTo >= floor) {
      const pipe = redis.pipeline();
      for (let d = floor; d <= upTo; d++)
        pipe.del(keys.aggDay(d), keys.aggNoisy(d), keys.aggResponders(d));
      pipe.set(keys.aggFloor(), String(upTo + 1));
      await pipe.exec();
    } else await redis.set(keys.aggFloor(), String(floor));
    if (deleted) logger.info({ deleted }, 'retention: resolved incidents deleted');
    return { deleted, more: deleted >= batch || upTo < last };
  }

  const loop = createWorkerLoop(
    'retention',
    async () => {
      if (!migrated) await migrate(); // deferred at start (Redis was not ready)
      return (await compactOnce()).more ? 10 : (deps.intervalMs ?? 60_000);
    },
    logger,
  );

  return { migrate, compactOnce, start: () => loop.start(), stop: () => loop.stop() };
}

export type History = ReturnType<typeof createHistory>;
