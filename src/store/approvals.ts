import type { Redis } from 'ioredis';
import type { ApprovalRecord, VoteOutcome } from '../domain/runs.js';
import type { Keys } from './keys.js';
import type { Scripts } from './scripts.js';

/** Extra lifetime of a request's record after its approval window, so late presses find it. */
const KEEP_AFTER_EXPIRY_MS = 86_400_000;

function decode(h: Record<string, string>): ApprovalRecord | undefined {
  if (!h.token) return undefined;
  return {
    token: h.token,
    runbook: h.runbook ?? '',
    params: JSON.parse(h.params ?? '{}') as Record<string, string>,
    paramsHash: h.params_hash ?? '',
    chat: h.chat ?? '',
    chatId: h.chat_id ?? '',
    messageId: h.message_id ? Number(h.message_id) : undefined,
    requester: h.requester ?? '',
    requesterId: h.requester_id ?? '',
    incident: h.incident || undefined,
    needed: Number(h.needed ?? 1),
    approvals: JSON.parse(h.approvals ?? '[]') as ApprovalRecord['approvals'],
    state: (h.state ?? 'pending') as ApprovalRecord['state'],
    createdAt: Number(h.created_at ?? 0),
    expiresAt: Number(h.expires_at ?? 0),
    decidedBy: h.decided_by || undefined,
  };
}

/** Run requests and their votes (hash per token; votes through approval_vote.lua). */
export function createApprovalStore(deps: { redis: Redis; keys: Keys; scripts: Scripts }) {
  const { redis, keys, scripts } = deps;
  return {
    async get(token: string): Promise<ApprovalRecord | undefined> {
      return decode(await redis.hgetall(keys.approval(token)));
    },

    /** Stores a new request; its record outlives the approval window by a day. */
    async create(rec: ApprovalRecord, ttlMs: number): Promise<void> {
      const k = keys.approval(rec.token);
      await redis
        .multi()
        .hset(k, {
          token: rec.token,
          runbook: rec.runbook,
          params: JSON.stringify(rec.params),
          params_hash: rec.paramsHash,
          chat: rec.chat,
          chat_id: rec.chatId,
          requester: rec.requester,
          requester_id: rec.requesterId,
          incident: rec.incident ?? '',
          needed: rec.needed,
          approvals: '[]',
          state: rec.state,
          created_at: rec.createdAt,
          expires_at: rec.expiresAt,
        })
        .pexpire(k, ttlMs + KEEP_AFTER_EXPIRY_MS)
        .exec();
    },

    async attachMessage(token: string, messageId: number): Promise<void> {
      await redis.hset(keys.approval(token), 'message_id', messageId);
    },

    /**
     * Counts one vote atomically: checks the chat, the voter (never the requester, never twice) and
     * the state; the last needed approval marks the request approved, exactly once.
     */
    async vote(v: {
      now: number;
      token: string;
      voter: string;
      voterId: number;
      vote: 'y' | 'n';
      chatId: number;
    }): Promise<{ outcome: VoteOutcome; have: number; needed: number }> {
      return scripts.approvalVote({
        now: v.now,
        token: v.token,
        voter: v.voter,
        voterId: String(v.voterId),
        vote: v.vote,
        chatId: String(v.chatId),
      });
    },

    /** The effect-plan part that expires a request only while it is still pending. */
    expiryEffects(token: string): {
      guards: { key: string; field: string; eq: string }[];
      hset: { key: string; field: string; value: string }[];
    } {
      const k = keys.approval(token);
      return {
        guards: [{ key: k, field: 'state', eq: 'pending' }],
        hset: [{ key: k, field: 'state', value: 'expired' }],
      };
    },
  };
}

export type ApprovalStore = ReturnType<typeof createApprovalStore>;
