import os from 'node:os';
import { roleAtLeast, type Role } from '../domain/people.js';
import { matchLabels } from '../incidents/routing.js';
import type { ApprovalStore } from '../store/approvals.js';
import { createExecution, type ExecutionDeps } from './execution.js';
import { createRecovery, type RecoveryDeps } from './recovery.js';
import { createRunRequests, type RequestDeps } from './requests.js';
import type { Runbook } from './model.js';

export type RunbookServiceDeps = RequestDeps &
  Omit<ExecutionDeps, 'host'> &
  Omit<RecoveryDeps, 'host'> & {
    approvals: ApprovalStore;
    /** This machine, as recorded beside each step's process group (default os.hostname()). */
    host?: string;
  };

/**
 * Runbooks from the chat: the catalogue, requests and approvals (./requests.ts), locked and
 * redacted execution with live progress (./execution.ts), and crash recovery (./recovery.ts).
 */
export function createRunbookService(deps: RunbookServiceDeps) {
  const { runbooks } = deps;
  const host = deps.host ?? os.hostname();
  const execution = createExecution({ ...deps, host });
  const requests = createRunRequests(deps, execution);
  const recovery = createRecovery({ ...deps, host }, execution);

  return {
    runbooks,

    /** Runbooks a role may request, by id. */
    visibleTo(role: Role): Runbook[] {
      return [...runbooks.values()]
        .filter((r) => roleAtLeast(role, r.role))
        .sort((a, b) => a.id.localeCompare(b.id));
    },

    /** Runbooks whose `match` fits an incident's labels. */
    forLabels(labels: Record<string, string>): Runbook[] {
      return [...runbooks.values()].filter(
        (r) => Object.keys(r.match).length > 0 && matchLabels(r.match, labels),
      );
    },

    getApproval: requests.getApproval,
    request: requests.request,
    attachMessage: requests.attachMessage,
    vote: requests.vote,
    startWithoutApproval: requests.startWithoutApproval,

    /** A run's record and full output (the Details button), or undefined when unknown. */
    async runOutput(runId: string) {
      const run = await deps.runs.get(runId);
      if (!run.id) return undefined;
      return { run, output: await deps.runs.output(runId) };
    },

    recoverInterrupted: recovery.recoverInterrupted,
    start: recovery.start,

    /**
     * Stops the heartbeat, waits for runs in flight (bounded by `graceMs`), then cancels the rest
     * and waits until their steps are dead.
     */
    async stop(graceMs = 3000) {
      recovery.stop();
      await execution.stop(graceMs);
    },
  };
}

export type RunbookService = ReturnType<typeof createRunbookService>;
