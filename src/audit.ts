import type { Redis } from 'ioredis';
import type { Clock } from './clock.js';
import type { Keys } from './store/keys.js';

export interface AuditEntry {
  id?: string;
  t: number;
  action: string;
  actor: string;
  /** The actor's Telegram user id (absent for opsbot itself): names can be borrowed, ids cannot. */
  actor_id?: number;
  [k: string]: unknown;
}

/** Who did it: a configured name or a stranger's Telegram name, with the Telegram id. */
export interface AuditActor {
  name: string;
  telegramId: number;
}

/** Append-only audit trail in a Redis stream (capped at ~100k entries). */
export function createAuditLog(deps: { redis: Redis; keys: Keys; clock: Clock }) {
  const { redis, keys, clock } = deps;
  return {
    async append(
      action: string,
      actor: string | AuditActor,
      fields: Record<string, unknown> = {},
    ): Promise<string> {
      const who =
        typeof actor === 'string' ? { actor } : { actor: actor.name, actor_id: actor.telegramId };
      const entry = JSON.stringify({ t: clock.now(), action, ...who, ...fields });
      return (await redis.xadd(keys.audit(), 'MAXLEN', '~', '100000', '*', 'e', entry)) ?? '';
    },
    async recent(n: number): Promise<AuditEntry[]> {
      const rows = await redis.xrevrange(keys.audit(), '+', '-', 'COUNT', n);
      return rows.map(([id, fields]) => ({ id, ...(JSON.parse(fields[1] ?? '{}') as AuditEntry) }));
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
