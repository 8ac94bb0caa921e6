export type TradeState = 'pending' | 'accepted' | 'declined' | 'expired';

/** A /cover or /swap request (a pending request and, once decided, its outcome). */
export interface TradeRecord {
  id: string;
  kind: 'cover' | 'swap';
  schedule: string;
  requester: string;
  requesterId: number;
  /** Whose shift is covered or swapped (the requester, or the on-call person an admin asked for). */
  owner: string;
  /** The person asked; '' for an open /cover (any other member of the schedule). */
  target: string;
  candidates: string[];
  declined: string[];
  /** The owner's time to cover, or (swap) the owner's shift. */
  from: number;
  to: number;
  /** Swap: the other person's shift. */
  other?: string;
  from2?: number;
  to2?: number;
  state: TradeState;
  chat: string;
  messageId?: number;
  createdAt: number;
  expiresAt: number;
  decidedBy?: string;
  decidedAt?: number;
  /** Cover: when the accepted cover began (the acceptance, if the asked-for time had started). */
  appliedFrom?: number;
}
