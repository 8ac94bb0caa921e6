/** Runbook run requests, approvals and run records, as the runbook service and its stores share them. */

export type ApprovalState = 'pending' | 'approved' | 'rejected' | 'expired' | 'running' | 'done';

/** A run request and its approvals, identified by a single-use 128-bit token. */
export interface ApprovalRecord {
  token: string;
  runbook: string;
  params: Record<string, string>;
  paramsHash: string;
  chat: string;
  chatId: string;
  messageId?: number;
  requester: string;
  requesterId: string;
  incident?: string;
  needed: number;
  approvals: { id: string; name: string; at: number }[];
  state: ApprovalState;
  createdAt: number;
  expiresAt: number;
  decidedBy?: string;
}

/** What one approver's press did to a request. */
export type VoteOutcome =
  | 'expired'
  | 'done'
  | 'wrong_chat'
  | 'self'
  | 'dup'
  | 'rejected'
  | 'counted'
  | 'approved'
  | 'forbidden';

/** A run as it starts: who asked, who approved, where its message is and which lock it holds. */
export interface RunStart {
  id: string;
  runbook: string;
  params: Record<string, string>;
  requester: string;
  approvers: string[];
  startedAt: number;
  chat: string;
  messageId: number;
  incident?: string;
  lock: string;
  lockHolder: string;
  /** Instance running it. */
  owner: string;
  host: string;
  aliveAt: number;
  token: string;
}

/** Where a step's process group runs, while it runs. */
export interface RunProcess {
  pgid: number;
  host: string;
  boot?: string;
  pstart?: string;
}

/**
 * A stored run as recovery and the Details button read it. Fields are absent when the record lacks
 * them (a run record is written in parts: at start, per step, at the end).
 */
export interface RunRecord {
  id?: string;
  runbook?: string;
  state?: string;
  chat?: string;
  messageId?: number;
  incident?: string;
  lock?: string;
  lockHolder?: string;
  host?: string;
  pgid?: number;
  boot?: string;
  pstart?: string;
  /** Last lease renewal (ms since epoch), 0 when never recorded. */
  aliveAt: number;
  token?: string;
}
