import { parseChatKey } from '../incidents/routing.js';
import { editRunMessage, type Execution, type RunDeps } from './execution.js';
import { killLeftoverGroup } from './procs.js';

export interface RecoveryDeps extends RunDeps {
  /** How often leases are renewed and dead runs swept (default 5 s). */
  sweepEveryMs?: number;
}

/** A run of another host whose instance stopped renewing is marked interrupted after this long. */
const FOREIGN_ORPHAN_MS = 10 * 60_000;

/**
 * Crash recovery: runs whose instance died are stopped (their leftover process groups on this
 * host killed), their locks released and their messages and incidents told. Also the heartbeat
 * that keeps this instance's own runs alive and sweeps for dead ones.
 */
export function createRecovery(
  deps: RecoveryDeps,
  execution: Pick<Execution, 'isRunning' | 'renewLeases'>,
) {
  const { runs, locks, clock, repo, audit, messages, logger, host } = deps;
  let aliveTimer: NodeJS.Timeout | undefined;
  let sweeping = false;

  /**
   * Recovers runs whose instance died (their alive lease lapsed): first kills the process groups
   * they left on this host (checked to be the same group), only then releases their locks and
   * marks them interrupted. They are never re-run by themselves. A run whose group is on another
   * host is left to an instance there, and marked interrupted only after {@link FOREIGN_ORPHAN_MS}.
   */
  async function recoverInterrupted(): Promise<string[]> {
    const ids = await runs.activeIds();
    const out: string[] = [];
    for (const id of ids) {
      if (execution.isRunning(id)) continue;
      if (await runs.isAlive(id)) continue;
      const h = await runs.get(id);
      const here = !h.host || h.host === host;
      if (!here && h.pgid && Date.now() - h.aliveAt < FOREIGN_ORPHAN_MS) continue;
      // one instance recovers a run, even when several sweep at once
      if (!(await runs.claimRecovery(id, deps.instanceId))) continue;
      let killed = false;
      if (here && h.pgid)
        killed = killLeftoverGroup({
          pgid: h.pgid,
          host,
          ...(h.boot ? { boot: h.boot } : {}),
          ...(h.pstart ? { start: h.pstart } : {}),
        });
      await runs.markInterrupted(id, clock.now());
      if (h.lock && h.lockHolder) await locks.release(h.lock, h.lockHolder);
      await audit.append('run.interrupted', 'opsbot', {
        run: id,
        runbook: h.runbook,
        ...(h.pgid ? { pgid: h.pgid, host: h.host, killed } : {}),
      });
      if (h.incident)
        await repo.apply({
          timeline: [
            {
              inc: h.incident,
              entry: {
                t: clock.now(),
                type: 'runbook_interrupted',
                actor: 'opsbot',
                text: h.runbook,
              },
            },
          ],
        });
      if (h.chat && h.messageId) {
        const locale = await deps.localeOf(parseChatKey(h.chat).chatId);
        await editRunMessage(
          repo,
          h.chat,
          h.messageId,
          messages.interrupted(h.runbook ?? '?', locale),
          undefined,
          `run:${h.token ?? id}`,
        );
      }
      out.push(id);
    }
    return out;
  }

  return {
    recoverInterrupted,

    /** Renews the alive leases and locks of this instance's runs, and sweeps for dead ones. */
    start() {
      aliveTimer = setInterval(() => {
        execution.renewLeases();
        if (sweeping) return;
        sweeping = true;
        void recoverInterrupted()
          .catch((e: unknown) => logger.warn({ err: e }, 'runbook recovery sweep failed'))
          .finally(() => (sweeping = false));
      }, deps.sweepEveryMs ?? 5000);
      aliveTimer.unref();
    },

    stop() {
      if (aliveTimer) clearInterval(aliveTimer);
    },
  };
}

export type Recovery = ReturnType<typeof createRecovery>;
