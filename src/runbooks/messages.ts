import type { ApprovalRecord } from '../domain/runs.js';
import type { Locale } from '../i18n.js';
import type { RunResult, StepResult } from './executor.js';
import type { Runbook } from './model.js';

/** What a run's message shows of its request. */
export type RunShown = Pick<
  ApprovalRecord,
  'params' | 'requester' | 'incident' | 'approvals' | 'needed' | 'expiresAt' | 'state' | 'decidedBy'
>;

/** A keyboard under a message, opaque to the runbook service (the chat layer builds it). */
export type RunKeyboard = object;

/**
 * The messages the runbook service posts and edits, in a chat's language. The chat layer
 * implements them (the service itself makes no markup).
 */
export interface RunbookMessages {
  /** The request/progress message of a run. */
  run(rb: Runbook, a: RunShown, locale: Locale, steps?: StepResult[], result?: RunResult): string;
  /** Approve and Reject buttons of a request. */
  voteKeyboard(token: string, locale: Locale): RunKeyboard;
  /** The Details button of a finished run. */
  detailsKeyboard(runId: string, locale: Locale): RunKeyboard;
  /** The request, closed: its lock is held by `holder`. */
  locked(rb: Runbook, a: RunShown, lock: string, holder: string, locale: Locale): string;
  /** The stored request no longer matches what was validated and approved. */
  refusedTampered(rb: Runbook, locale: Locale): string;
  /** The request, closed: the requester lost the runbook's role before approval completed. */
  refusedRole(rb: Runbook, a: RunShown, locale: Locale): string;
  /** The run's instance died; the run was stopped and is not re-run. */
  interrupted(runbookId: string, locale: Locale): string;
}
