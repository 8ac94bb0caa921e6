import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** How long a chat remembers a dedup key's last topic (a re-trigger within it reopens the topic). */
const LAST_TOPIC_MS = 30 * 86_400_000;

/**
 * War-room topics in Redis: which incident owns a topic, the last topic of a dedup key in a chat,
 * the incident's topic fields, and whether a chat was told topics are unavailable. The `*Effects`
 * functions return parts of an effect plan, applied atomically with the rest of it.
 */
export function createWarRoomStore(deps: { redis: Redis; keys: Keys }) {
  const { redis, keys } = deps;
  return {
    /** The thread of the last topic of `dedup` in `chat`, if any. */
    async lastTopic(chat: string, dedup: string): Promise<number | undefined> {
      const v = await redis.hget(keys.wrLast(chat, dedup), 'thread');
      return v ? Number(v) : undefined;
    },

    /** The incident that owns a topic, if any. */
    async topicOwner(chatId: number, thread: number): Promise<string | undefined> {
      return (await redis.hget(keys.wrTopic(chatId, thread), 'inc')) ?? undefined;
    },

    /** Records a topic opened (or reopened) for an incident, once: guarded by the incident's thread. */
    openedEffects(t: { inc: string; chat: string; chatId: number; thread: number; dedup: string }) {
      const ik = keys.incident(t.inc);
      return {
        guards: [{ key: ik, field: 'wr_thread', missing: true }],
        hset: [
          { key: ik, field: 'wr_thread', value: t.thread },
          { key: ik, field: 'wr_closed', value: '0' },
          { key: keys.wrTopic(t.chatId, t.thread), field: 'inc', value: t.inc },
          { key: keys.wrLast(t.chat, t.dedup), field: 'thread', value: t.thread },
        ],
        del: [keys.wrFallback(t.chat)],
      };
    },

    /** Keeps the dedup key's last topic for a re-trigger (after `openedEffects` applied). */
    async keepLastTopic(chat: string, dedup: string): Promise<void> {
      await redis.pexpire(keys.wrLast(chat, dedup), LAST_TOPIC_MS);
    },

    /** The incident posts in the chat itself (no topic), unless a topic was recorded meanwhile. */
    offEffects(inc: string) {
      const ik = keys.incident(inc);
      return {
        guards: [{ key: ik, field: 'wr_thread', missing: true }],
        hset: [{ key: ik, field: 'wr_off', value: '1' }],
      };
    },

    /** True the first time since the last opened topic that `chat` turns out to lack topics. */
    async firstFallback(chat: string, now: number): Promise<boolean> {
      return (await redis.set(keys.wrFallback(chat), String(now), 'NX')) === 'OK';
    },

    /** Records whether the incident's topic is closed. */
    async setClosed(inc: string, closed: boolean): Promise<void> {
      await redis.hset(keys.incident(inc), 'wr_closed', closed ? '1' : '0');
    },
  };
}

export type WarRoomStore = ReturnType<typeof createWarRoomStore>;
