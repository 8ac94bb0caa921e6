import type { Logger } from '../logger.js';
import type { DedupMigrationStore } from '../store/dedup-migration.js';
import { scopeDedup } from '../domain/dedup.js';

export { DEDUP_SCOPE_MIGRATION } from '../store/dedup-migration.js';

/**
 * Start-up migration for incidents opened before dedup keys were scoped: each `<prefix>dedup:<key>`
 * whose open incident came from an integration becomes `<prefix>dedup:<integration>/<key>`, so an
 * alert arriving after the upgrade still folds into its open incident. Bounded SCAN batches, one
 * atomic re-key per pointer, idempotent (already-scoped keys are skipped; a finished run is recorded
 * in the `migrations` hash and not repeated).
 */
export async function migrateDedupKeys(deps: {
  store: DedupMigrationStore;
  logger?: Logger;
  batch?: number;
}): Promise<{ migrated: number; skipped: boolean }> {
  const { store, logger } = deps;
  const batch = deps.batch ?? 500;
  if (await store.done()) return { migrated: 0, skipped: true };
  let migrated = 0;
  await store.scan(batch, async (pointers) => {
    await Promise.all(
      pointers
        .filter((p) => !p.key.startsWith(`${p.integration}/`))
        .map(async (p) => {
          if (await store.rekey(p, scopeDedup(p.integration, p.key))) migrated++;
        }),
    );
  });
  await store.markDone();
  if (migrated > 0) logger?.info({ migrated }, 'dedup keys scoped to their integration');
  return { migrated, skipped: false };
}
