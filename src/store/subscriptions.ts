import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { OpsbotConfig } from '../config.js';
import { dmRecipients, isDmSetting, type DmSetting } from '../domain/subscriptions.js';
import type { Keys } from './keys.js';

type Severity = Exclude<DmSetting, 'off'>;

/**
 * Private-chat notifications. A configured person who starts the bot in private gets every new
 * incident there, with the same buttons as in the group (`/notify P1` narrows it, `/notify off` stops
 * it). Settings live in one Redis hash (telegram id -> setting); intake reads them through a short
 * cache so an alert costs no extra round trip.
 */
export function createDmSubscriptions(deps: {
  redis: Redis;
  keys: Keys;
  clock: Clock;
  config: OpsbotConfig;
  cacheMs?: number;
}) {
  const { redis, keys, clock, config } = deps;
  const cacheMs = deps.cacheMs ?? 5_000;
  const known = new Set(Object.values(config.people).map((p) => String(p.telegram_id)));
  let cache: { at: number; subs: Record<string, string> } | undefined;

  async function all(): Promise<Record<string, string>> {
    const now = clock.now();
    if (cache && now - cache.at < cacheMs) return cache.subs;
    const subs = await redis.hgetall(keys.dmSubs());
    cache = { at: now, subs };
    return subs;
  }

  async function get(telegramId: number): Promise<DmSetting | undefined> {
    const v = await redis.hget(keys.dmSubs(), String(telegramId));
    return v && isDmSetting(v) ? v : undefined;
  }

  return {
    get,
    async set(telegramId: number, setting: DmSetting): Promise<void> {
      await redis
        .multi()
        .hset(keys.dmSubs(), String(telegramId), setting)
        .incr(keys.suppressionVersion())
        .exec();
      cache = undefined;
    },
    /**
     * Sets `setting` only when the person has none yet (a repeated /start keeps their choice);
     * returns the setting in force afterwards.
     */
    async setDefault(telegramId: number, setting: DmSetting): Promise<DmSetting> {
      if (await redis.hsetnx(keys.dmSubs(), String(telegramId), setting)) {
        await redis.incr(keys.suppressionVersion());
        cache = undefined;
        return setting;
      }
      return (await get(telegramId)) ?? setting;
    },
    /** Private chats (telegram ids) that want a new incident of `severity`; people only, never strangers. */
    async recipients(severity: Severity): Promise<string[]> {
      return dmRecipients(await all(), severity, known);
    },
    /** Configured people's telegram ids (only they may get DMs). */
    known,
  };
}

export type DmSubscriptions = ReturnType<typeof createDmSubscriptions>;
