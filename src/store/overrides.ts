import type { Redis } from 'ioredis';
import type { Override } from '../domain/oncall.js';
import type { Keys } from './keys.js';

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

/** The runtime overrides bound to one Redis: what the domain is handed. */
export function createOverridesStore(redis: Redis, keys: Keys) {
  return {
    /** Overrides of `schedule` still lasting after `now`. */
    active: (schedule: string, now: number) => readRuntimeOverrides(redis, keys, schedule, now),
  };
}

export type OverridesStore = ReturnType<typeof createOverridesStore>;
