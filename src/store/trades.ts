import type { Redis } from 'ioredis';
import type { TradeRecord, TradeState } from '../domain/trades.js';
import type { Keys } from './keys.js';
import type { Scripts } from './scripts.js';

const DAY = 86_400_000;

/**
 * /cover and /swap requests in Redis: one hash per request (`keys.trade(id)`); a decision runs
 * trade_decide.lua, which also writes the overrides in the same step.
 */
export function createTradeStore(redis: Redis, keys: Keys, scripts: Scripts) {
  async function get(id: string): Promise<TradeRecord | undefined> {
    const h = await redis.hgetall(keys.trade(id));
    if (!h.id) return undefined;
    const num = (v: string | undefined) => (v ? Number(v) : undefined);
    return {
      id: h.id,
      kind: h.kind === 'swap' ? 'swap' : 'cover',
      schedule: h.schedule ?? '',
      requester: h.requester ?? '',
      requesterId: Number(h.requester_id),
      owner: h.owner ?? '',
      target: h.target ?? '',
      candidates: JSON.parse(h.candidates ?? '[]') as string[],
      declined: JSON.parse(h.declined ?? '[]') as string[],
      from: Number(h.from),
      to: Number(h.to),
      ...(h.other ? { other: h.other, from2: num(h.from2), to2: num(h.to2) } : {}),
      state: (h.state ?? 'pending') as TradeState,
      chat: h.chat ?? '',
      messageId: num(h.message_id),
      createdAt: Number(h.created_at),
      expiresAt: Number(h.expires_at),
      decidedBy: h.decided_by || undefined,
      decidedAt: num(h.decided_at),
      appliedFrom: num(h.applied_from),
    };
  }

  /** Stores a new pending request; it is kept a week after it expires. */
  async function insert(
    id: string,
    plan: Omit<
      TradeRecord,
      'id' | 'state' | 'chat' | 'createdAt' | 'declined' | 'requester' | 'requesterId'
    >,
    requester: { name: string; telegramId: number },
    chat: string,
    now: number,
  ): Promise<void> {
    const k = keys.trade(id);
    await redis
      .multi()
      .hset(k, {
        id,
        kind: plan.kind,
        schedule: plan.schedule,
        requester: requester.name,
        requester_id: requester.telegramId,
        owner: plan.owner,
        target: plan.target,
        candidates: JSON.stringify(plan.candidates),
        declined: '[]',
        from: plan.from,
        to: plan.to,
        ...(plan.other ? { other: plan.other, from2: plan.from2, to2: plan.to2 } : {}),
        state: 'pending',
        chat,
        created_at: now,
        expires_at: plan.expiresAt,
      })
      .pexpire(k, Math.max(0, plan.expiresAt - now) + 7 * DAY)
      .exec();
  }

  async function attachMessage(id: string, messageId: number): Promise<void> {
    await redis.hset(keys.trade(id), 'message_id', messageId);
  }

  /** Runs one Accept/Decline press; answers the script's outcome word (`done:expired`, `accepted`, ...). */
  async function decide(
    id: string,
    who: { name: string; telegramId: number },
    accept: boolean,
    now: number,
  ): Promise<string> {
    return scripts.tradeDecide({
      now,
      id,
      who: who.name,
      telegramId: String(who.telegramId),
      accept,
    });
  }

  /** Effect-plan pieces that expire a request only while it is still pending. */
  function expiryEffects(id: string) {
    const key = keys.trade(id);
    return {
      guards: [{ key, field: 'state', eq: 'pending' }],
      hset: [{ key, field: 'state', value: 'expired' }],
    };
  }

  return { get, insert, attachMessage, decide, expiryEffects };
}

export type TradeStore = ReturnType<typeof createTradeStore>;
