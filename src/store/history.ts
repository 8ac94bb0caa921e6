import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';
import type { Scripts } from './scripts.js';

/**
 * What the history (start-up migration and retention) reads and writes: the stored schema version,
 * the legacy index walk, the retention script and the daily aggregates' floor.
 */
export interface HistoryStore {
  /** The data layout version stored (0 when none). */
  schemaVersion(): Promise<number>;
  /** Records the layout version and forgets the migration cursor. */
  setSchemaVersion(v: number): Promise<void>;
  /** The saved cursor of the legacy index walk ('0' to start). */
  migrationCursor(): Promise<string>;
  saveMigrationCursor(cursor: string): Promise<void>;
  /** One ZSCAN page of the legacy all-incidents index: the next cursor and the incident ids. */
  legacyPage(cursor: string, batch: number): Promise<{ next: string; ids: string[] }>;
  /** Counts the incidents not counted yet (ix_migrate.lua); how many it counted. */
  countLegacy(ids: string[], now: number): Promise<number>;
  /** Drops what schema 2 kept and nothing reads any more (UNLINK: freed off the main thread). */
  dropLegacy(): Promise<void>;
  /** Deletes at most `batch` incidents resolved before `before` (ix_compact.lua); how many. */
  compact(now: number, before: number, batch: number): Promise<number>;
  /** The first day whose aggregates may still exist (NaN or 0 when unknown). */
  aggregateFloor(): Promise<number>;
  setAggregateFloor(day: number): Promise<void>;
  /** Deletes the daily aggregates of days `from`..`to` and moves the floor past them. */
  dropAggregates(from: number, to: number): Promise<void>;
  /** Creation time of the oldest incident stored (lowest number in the state indexes), if any. */
  oldestCreatedAt(): Promise<number>;
}

export function createHistoryStore(deps: {
  redis: Redis;
  keys: Keys;
  scripts: Scripts;
}): HistoryStore {
  const { redis, keys, scripts } = deps;
  return {
    async schemaVersion() {
      return Number((await redis.get(keys.schemaVersion())) ?? 0) || 0;
    },
    async setSchemaVersion(v) {
      await redis.set(keys.schemaVersion(), String(v));
      await redis.del(keys.migrationCursor());
    },
    async migrationCursor() {
      return (await redis.get(keys.migrationCursor())) ?? '0';
    },
    async saveMigrationCursor(cursor) {
      await redis.set(keys.migrationCursor(), cursor);
    },
    async legacyPage(cursor, batch) {
      const [next, flat] = await redis.zscan(keys.all(), cursor, 'COUNT', batch);
      return { next, ids: flat.filter((_, i) => i % 2 === 0) };
    },
    async countLegacy(ids, now) {
      return scripts.ixMigrate(now, ids);
    },
    async dropLegacy() {
      await redis.unlink(keys.counters(), keys.open(), keys.all());
    },
    async compact(now, before, batch) {
      return scripts.ixCompact(now, before, batch);
    },
    async aggregateFloor() {
      return Number(await redis.get(keys.aggFloor()));
    },
    async setAggregateFloor(day) {
      await redis.set(keys.aggFloor(), String(day));
    },
    async dropAggregates(from, to) {
      const pipe = redis.pipeline();
      for (let d = from; d <= to; d++)
        pipe.del(keys.aggDay(d), keys.aggNoisy(d), keys.aggResponders(d));
      pipe.set(keys.aggFloor(), String(to + 1));
      await pipe.exec();
    },
    async oldestCreatedAt() {
      const pipe = redis.pipeline();
      for (const st of ['triggered', 'acknowledged', 'resolved'] as const)
        pipe.zrange(keys.stateIndex(st), 0, 0, 'WITHSCORES');
      let oldest: string | undefined;
      let low = Infinity;
      for (const [err, r] of (await pipe.exec()) ?? []) {
        const [id, score] = err ? [] : (r as string[]);
        if (id && Number(score) < low) [oldest, low] = [id, Number(score)];
      }
      return oldest ? Number(await redis.hget(keys.incident(oldest), 'created_at')) : NaN;
    },
  };
}
