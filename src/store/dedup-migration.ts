import type { Cluster, Redis } from 'ioredis';
import type { Keys } from './keys.js';

/** Version marker of the dedup-key re-keying, a field of the `migrations` hash. */
export const DEDUP_SCOPE_MIGRATION = 'dedup_scope';

// Re-keys one legacy dedup pointer, atomically, only if nothing moved since the scan read it.
// KEYS[1] legacy dedup key  KEYS[2] incident hash  KEYS[3] scoped dedup key (all share the prefix's slot)
// ARGV[1] incident id the scan read  ARGV[2] its integration  ARGV[3] scoped key
// Returns 1 when re-keyed, 0 when skipped (changed meanwhile, or a pointer to a closed incident, dropped)
const REKEY = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local h = redis.call('HMGET', KEYS[2], 'integration', 'state')
if h[1] ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1])
if (not h[2]) or h[2] == 'resolved' then return 0 end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('SET', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[2], 'dedup', ARGV[3])
return 1
`;

const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** A stored dedup pointer: its key (without the prefix), the incident and its integration. */
export interface DedupPointer {
  key: string;
  id: string;
  integration: string;
}

/** The dedup pointers and the record of the one-off re-keying (see migrateDedupKeys). */
export interface DedupMigrationStore {
  /** True once the re-keying has finished. */
  done(): Promise<boolean>;
  markDone(): Promise<void>;
  /**
   * Walks every dedup pointer in bounded SCAN batches (every master on Redis Cluster), handing each
   * page of pointers whose incident names an integration to `page`.
   */
  scan(batch: number, page: (pointers: DedupPointer[]) => Promise<void>): Promise<void>;
  /** Moves a pointer to `scoped` if nothing changed since it was read; true when moved. */
  rekey(p: DedupPointer, scoped: string): Promise<boolean>;
}

export function createDedupMigrationStore(deps: { redis: Redis; keys: Keys }): DedupMigrationStore {
  const { redis, keys } = deps;
  const base = keys.dedup('');
  return {
    async done() {
      return (await redis.hget(keys.migrations(), DEDUP_SCOPE_MIGRATION)) === '1';
    },
    async markDone() {
      await redis.hset(keys.migrations(), DEDUP_SCOPE_MIGRATION, '1');
    },
    async scan(batch, page) {
      const match = `${globEscape(base)}*`;
      // on Redis Cluster every opsbot key lives on the slot of the prefix's hash tag: scan the masters
      const cluster = redis as unknown as Partial<Pick<Cluster, 'nodes'>>;
      const nodes: Redis[] =
        typeof cluster.nodes === 'function' ? cluster.nodes('master') : [redis];
      // (callers read done() first, which waited for the cluster's slot map: its masters are known)
      if (nodes.length === 0) throw new Error('no Redis node to scan for legacy dedup keys');
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, found] = await node.scan(cursor, 'MATCH', match, 'COUNT', batch);
          cursor = next;
          if (found.length === 0) continue;
          const ids = await Promise.all(found.map((k) => redis.get(k)));
          const metas = await Promise.all(
            ids.map((id) => (id ? redis.hget(keys.incident(id), 'integration') : null)),
          );
          const pointers: DedupPointer[] = [];
          found.forEach((dkey, i) => {
            const id = ids[i];
            const integration = metas[i];
            if (id && integration) pointers.push({ key: dkey.slice(base.length), id, integration });
          });
          await page(pointers);
        } while (cursor !== '0');
      }
    },
    async rekey(p, scoped) {
      const r = await redis.eval(
        REKEY,
        3,
        keys.dedup(p.key),
        keys.incident(p.id),
        keys.dedup(scoped),
        p.id,
        p.integration,
        scoped,
      );
      return r === 1;
    },
  };
}
