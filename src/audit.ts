import type { Clock } from './clock.js';
import type { AuditEntry, AuditStore } from './store/audit.js';

export type { AuditEntry } from './store/audit.js';

/** Who did it: a configured name or a stranger's Telegram name, with the Telegram id. */
export interface AuditActor {
  name: string;
  telegramId: number;
}

/** The audit trail: who did what and when, stamped with the clock and kept by the audit store. */
export function createAuditLog(deps: { store: AuditStore; clock: Clock }) {
  const { store, clock } = deps;
  return {
    async append(
      action: string,
      actor: string | AuditActor,
      fields: Record<string, unknown> = {},
    ): Promise<string> {
      const who =
        typeof actor === 'string' ? { actor } : { actor: actor.name, actor_id: actor.telegramId };
      return store.append({ t: clock.now(), action, ...who, ...fields });
    },
    recent: (n: number): Promise<AuditEntry[]> => store.recent(n),
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
