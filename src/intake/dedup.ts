import type { Cluster, Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Keys } from '../store/keys.js';
import { scopeDedup } from '../domain/dedup.js';

/** Version marker of the re-keying below, a field of the `migrations` hash. */
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

/**
 * Start-up migration for incidents opened before dedup keys were scoped: each `<prefix>dedup:<key>`
 * whose open incident came from an integration becomes `<prefix>dedup:<integration>/<key>`, so an
 * alert arriving after the upgrade still folds into its open incident. Bounded SCAN batches, one
 * atomic re-key per pointer, idempotent (already-scoped keys are skipped; a finished run is recorded
 * in the `migrations` hash and not repeated).
 */
export async function migrateDedupKeys(deps: {
  redis: Redis;
  keys: Keys;
  logger?: Logger;
  batch?: number;
}): Promise<{ migrated: number; skipped: boolean }> {
  const { redis, keys, logger } = deps;
  const batch = deps.batch ?? 500;
  if ((await redis.hget(keys.migrations(), DEDUP_SCOPE_MIGRATION)) === '1')
    return { migrated: 0, skipped: true };
  const base = keys.dedup('');
  const match = `${globEscape(base)}*`;
  // on Redis Cluster every opsbot key lives on the slot of the prefix's hash tag: scan the masters
  const cluster = redis as unknown as Partial<Pick<Cluster, 'nodes'>>;
  const nodes: Redis[] = typeof cluster.nodes === 'function' ? cluster.nodes('master') : [redis];
  // (the HGET above waited for the cluster's slot map, so its masters are known by now)
  if (nodes.length === 0) throw new Error('no Redis node to scan for legacy dedup keys');
  let migrated = 0;
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
      const work: Promise<unknown>[] = [];
      found.forEach((dkey, i) => {
        const id = ids[i];
        const integration = metas[i];
        const key = dkey.slice(base.length);
        if (!id || !integration || key.startsWith(`${integration}/`)) return;
        const scoped = scopeDedup(integration, key);
        work.push(
          redis
            .eval(REKEY, 3, dkey, keys.incident(id), keys.dedup(scoped), id, integration, scoped)
            .then((r) => {
              if (r === 1) migrated++;
            }),
        );
      });
      await Promise.all(work);
    } while (cursor !== '0');
  }
  await redis.hset(keys.migrations(), DEDUP_SCOPE_MIGRATION, '1');
  if (migrated > 0) logger?.info({ migrated }, 'dedup keys scoped to their integration');
  return { migrated, skipped: false };
}
