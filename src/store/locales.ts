import type { Redis } from 'ioredis';
import { isLocale, type Locale } from '../i18n.js';
import type { Keys } from './keys.js';

/** Each chat's language (/lang), read through a short cache: every update asks for it. */
export interface LocaleStore {
  /** The chat's language; the default when none is set or Redis cannot answer. */
  localeOf(chatId: number): Promise<Locale>;
  setLocale(chatId: number, locale: Locale): Promise<void>;
}

export function createLocaleStore(deps: {
  redis: Redis;
  keys: Keys;
  defaultLocale: Locale;
  /** How long a read is reused, in ms. */
  cacheMs?: number;
}): LocaleStore {
  const { redis, keys, defaultLocale } = deps;
  const cacheMs = deps.cacheMs ?? 2000;
  const cache = new Map<number, { l: Locale; at: number }>();
  return {
    async localeOf(chatId) {
      const hit = cache.get(chatId);
      if (hit && Date.now() - hit.at < cacheMs) return hit.l;
      let l = defaultLocale;
      try {
        const v = await redis.get(keys.chatLocale(chatId));
        if (isLocale(v)) l = v;
      } catch {
        /* Redis down: default language */
      }
      cache.set(chatId, { l, at: Date.now() });
      return l;
    },
    async setLocale(chatId, l) {
      await redis.set(keys.chatLocale(chatId), l);
      cache.set(chatId, { l, at: Date.now() });
    },
  };
}
