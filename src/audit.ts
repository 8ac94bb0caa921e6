import type { Redis } from 'ioredis';
import type { Clock } from './clock.js';
import type { Keys } from './store/keys.js';

export interface AuditEntry {
  id?: string;
  t: number;
  action: string;
  actor: string;
  [k: string]: unknown;
}

/** Append-only audit trail in a Redis stream (capped at ~100k entries). */
export function createAuditLog(deps: { redis: Redis; keys: Keys; clock: Clock }) {
  const { redis, keys, clock } = deps;
  return {
    async append(
      action: string,
      actor: string,
      fields: Record<string, unknown> = {},
    ): Promise<string> {
      const entry = JSON.stringify({ t: clock.now(), action, actor, ...fields });
      return (await redis.xadd(keys.audit(), 'MAXLEN', '~', '100000', '*', 'e', entry)) ?? '';
    },
    async recent(n: number): Promise<AuditEntry[]> {
      const rows = await redis.xrevrange(keys.audit(), '+', '-', 'COUNT', n);
      return rows.map(([id, fields]) => ({ id, ...(JSON.parse(fields[1] ?? '{}') as AuditEntry) }));
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
