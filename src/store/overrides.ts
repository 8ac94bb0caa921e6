import type { Redis } from 'ioredis';
import type { Override } from '../domain/oncall.js';
import type { Scripts } from './scripts.js';
import type { Keys } from './keys.js';

/** One runtime on-call override: `person` is on call for the schedule from `from` to `to` (ms). */
export interface OverrideEntry {
  person: string;
  from: number;
  to: number;
}

/**
 * The runtime overrides (/override, accepted /cover and /swap) of a schedule that still last after
 * `now`. They live in one hash, a JSON list per schedule (written by override_add.lua and
 * trade_decide.lua, which drop ended ones); the bot's escalation and `opsbot oncall --redis` read them.
 */
export async function readRuntimeOverrides(
  redis: Redis,
  keys: Keys,
  schedule: string,
  now: number,
): Promise<Override[]> {
  const raw = await redis.hget(keys.overrides(), schedule);
  const list = raw ? (JSON.parse(raw) as Override[]) : [];
  return list.filter((o) => o.to > now);
}

/** Runtime on-call overrides (/override), added in one script step. */
export interface OverrideStore {
  /** Appends overrides to a schedule atomically, so an accepted /cover at the same moment is kept. */
  add(schedule: string, entries: OverrideEntry[], now: number): Promise<void>;
  /** Overrides of `schedule` still lasting after `now`. */
  active(schedule: string, now: number): Promise<Override[]>;
}

export function createOverrideStore(deps: {
  scripts: Scripts;
  keys: Keys;
  redis: Redis;
}): OverrideStore {
  const { scripts, keys, redis } = deps;
  return {
    async add(schedule, entries, now) {
      await scripts.overrideAdd(now, schedule, entries);
    },
    active: (schedule, now) => readRuntimeOverrides(redis, keys, schedule, now),
  };
}
