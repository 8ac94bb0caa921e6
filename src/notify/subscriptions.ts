import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { OpsbotConfig } from '../config.js';
import { SEVERITIES, type Severity } from '../domain/severity.js';
import type { Keys } from '../store/keys.js';

/** What a person gets in their private chat: new incidents of this severity or worse, or nothing. */
export type DmSetting = Severity | 'off';

export function isDmSetting(v: string): v is DmSetting {
  return v === 'off' || (SEVERITIES as readonly string[]).includes(v);
}

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

/** Of the stored settings `subs`, the private chats that want a new incident of `severity`. */
export function dmRecipients(
  subs: Record<string, string>,
  severity: Severity,
  known: ReadonlySet<string>,
): string[] {
  const rank = SEVERITIES.indexOf(severity);
  // 'off' (or anything unknown) has no rank, so it never matches
  return Object.entries(subs)
    .filter(([id, v]) => known.has(id) && rank <= SEVERITIES.indexOf(v as Severity))
    .map(([id]) => id);
}

export type DmSubscriptions = ReturnType<typeof createDmSubscriptions>;
