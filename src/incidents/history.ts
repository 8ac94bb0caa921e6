import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { createWorkerLoop } from '../loop.js';
import type { HistoryStore } from '../store/history.js';

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
  store: HistoryStore;
  clock: Clock;
  logger: Logger;
  retentionMs: number;
  batch?: number;
  /** Real ms between compaction passes when there is nothing left to do. */
  intervalMs?: number;
}) {
  const { store, clock, logger } = deps;
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
    const from = await store.schemaVersion();
    if (from >= SCHEMA_VERSION) {
      migrated = true;
      return { migrated: 0, from };
    }
    logger.info({ from, to: SCHEMA_VERSION }, 'migrating stored incidents to counters and indexes');
    let count = 0;
    if (from < 2) {
      let cursor = await store.migrationCursor();
      do {
        const { next, ids } = await store.legacyPage(cursor, batch);
        if (ids.length) count += await store.countLegacy(ids, clock.now());
        cursor = next;
        await store.saveMigrationCursor(cursor);
      } while (cursor !== '0');
    }
    await store.dropLegacy();
    await store.setSchemaVersion(SCHEMA_VERSION);
    logger.info({ migrated: count }, 'migration done');
    migrated = true;
    return { migrated: count, from };
  }

  /** One bounded retention pass: at most one batch of incidents and a few days of aggregates. */
  async function compactOnce(): Promise<{ deleted: number; more: boolean }> {
    const now = clock.now();
    const deleted = await store.compact(now, now - deps.retentionMs, batch);
    // daily aggregates past the longest /stats window
    const last = Math.floor(now / DAY_MS) - AGGREGATE_DAYS;
    let floor = await store.aggregateFloor();
    if (!Number.isFinite(floor) || floor <= 0) {
      // start from the day the oldest incident stored was created
      const created = await store.oldestCreatedAt();
      floor = Number.isFinite(created) && created > 0 ? Math.floor(created / DAY_MS) : last;
    }
    const upTo = Math.min(last, floor + 30);
    if (upTo >= floor) await store.dropAggregates(floor, upTo);
    else await store.setAggregateFloor(floor);
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
