import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** How many entries the audit stream keeps (approximately: XADD MAXLEN ~). */
const AUDIT_MAX = 100_000;

/** One audit record as stored: when, what, who, and the action's own fields. */
export interface AuditEntry {
  id?: string;
  t: number;
  action: string;
  actor: string;
  /** The actor's Telegram user id (absent for opsbot itself): names can be borrowed, ids cannot. */
  actor_id?: number;
  [k: string]: unknown;
}

/** The append-only audit trail: one Redis stream, capped at ~100k entries, newest read first. */
export function createAuditStore(deps: { redis: Redis; keys: Keys }) {
  const { redis, keys } = deps;
  return {
    /** Appends one entry (without `id`: the stream assigns it); its stream id. */
    async append(entry: AuditEntry): Promise<string> {
      const e = JSON.stringify(entry);
      return (await redis.xadd(keys.audit(), 'MAXLEN', '~', String(AUDIT_MAX), '*', 'e', e)) ?? '';
    },
    /** The newest `n` entries, newest first. */
    async recent(n: number): Promise<AuditEntry[]> {
      const rows = await redis.xrevrange(keys.audit(), '+', '-', 'COUNT', n);
      return rows.map(([id, fields]) => ({ id, ...(JSON.parse(fields[1] ?? '{}') as AuditEntry) }));
    },
  };
}

export type AuditStore = ReturnType<typeof createAuditStore>;
