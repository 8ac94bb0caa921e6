import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import {
  OUTBOX_LANES,
  type CardShape,
  type OutboxJob,
  type OutboxOutcome,
  type OutboxRecord,
} from '../domain/outbox.js';
import type { Incident } from '../domain/incident.js';
import { decodeIncident } from './incident-codec.js';
import type { Keys } from './keys.js';
import type { Scripts } from './scripts.js';

/** Telegram's limits as the claim script paces by them (config `outbox`). */
export interface OutboxLimits {
  per_chat_interval: number;
  group_per_minute: number;
  global_per_second: number;
  digest_threshold: number;
}

/** How many jobs of one lane the claim script folds into one digest at most. */
const DIGEST_MAX = 200;

/** outbox_finish.lua takes at most three records with the settlement. */
const MAX_RECORDS = 3;

/** A claimed job, or how long until one could be sent (-1: nothing queued). */
export type Claim = { job: OutboxJob; waitMs: 0 } | { job?: undefined; waitMs: number };

/** Where the chat's card of an incident stands: what it last showed, and its shape. */
export interface CardState {
  signature?: string;
  shape?: CardShape;
}

function cardStateOf(sig: string | null | undefined, shape: string | null | undefined): CardState {
  return {
    ...(sig ? { signature: sig } : {}),
    ...(shape === 'caption' || shape === 'text' ? { shape } : {}),
  };
}

/** What a card job reads: the incident (when it exists), its messages, and its card's state here. */
export interface CardView {
  inc?: Incident;
  messages: Record<string, string>;
  shown: CardState;
}

/** A storm digest's record: its message, what it showed, and its incidents. */
export interface DigestRecord {
  messageId: number;
  signature?: string;
  incidents: string[];
}

/**
 * The outbox's Redis side: claiming and settling jobs (outbox_claim.lua, outbox_finish.lua) and
 * what the worker reads and records about the messages it sent.
 */
export function createOutboxStore(deps: {
  redis: Redis;
  keys: Keys;
  scripts: Scripts;
  clock: Clock;
  limits: OutboxLimits;
  /** Lease for a claimed job; a worker that dies gives it back after this long. */
  leaseMs: number;
}) {
  const { redis, keys, scripts, clock, limits, leaseMs } = deps;

  function field(r: OutboxRecord): [key: string, field: string, value: string] {
    switch (r.kind) {
      case 'message':
        return [keys.messages(r.inc), r.chat, String(r.messageId)];
      case 'card_signature':
        return [keys.incident(r.inc), `rh:${r.chat}`, r.signature];
      case 'card_shape':
        return [keys.incident(r.inc), `mk:${r.chat}`, r.shape];
      case 'checklist_message':
        return [keys.checklist(r.inc), `_msg:${r.chat}`, String(r.messageId)];
      case 'digest_message':
        return [keys.obDigest(r.digest), 'msg', String(r.messageId)];
      case 'digest_signature':
        return [keys.obDigest(r.digest), 'sig', r.signature];
    }
  }

  return {
    /** The next job Telegram's limits allow now (outbox_claim.lua). */
    async claim(): Promise<Claim> {
      const r = await scripts.outboxClaim({
        now: clock.now(),
        leaseMs,
        intervalMs: limits.per_chat_interval,
        perMinute: limits.group_per_minute,
        perSecond: limits.global_per_second,
        digestAt: limits.digest_threshold,
        digestMax: DIGEST_MAX,
      });
      if (r.kind === 'job')
        return { job: { ...(JSON.parse(r.job) as OutboxJob), slot: r.slot }, waitMs: 0 };
      return { waitMs: r.ms };
    },

    /**
     * Settles a claimed job with up to three records, atomically (outbox_finish.lua). A retry puts
     * it back in front of its lane and pauses the chat for `delayMs`; `failure` counts the attempt.
     */
    async finish(
      job: OutboxJob,
      outcome: OutboxOutcome,
      opts: { delayMs?: number; failure?: boolean } = {},
      ...records: OutboxRecord[]
    ): Promise<void> {
      if (records.length > MAX_RECORDS) throw new Error('outbox finish: at most three records');
      await scripts.outboxFinish({
        now: clock.now(),
        jobId: job.id,
        chat: job.chat,
        outcome,
        delayMs: opts.delayMs ?? 0,
        records: records.map(field),
        failure: opts.failure,
        slot: job.slot,
      });
    },

    /**
     * Everything a card job reads, in one round trip: the incident, its messages (chat key ->
     * message id) and what the chat's card last showed and its shape (kept in the incident's hash).
     */
    async cardView(inc: string, chat: string): Promise<CardView> {
      const res = await redis
        .pipeline()
        .hgetall(keys.incident(inc))
        .hgetall(keys.messages(inc))
        .exec();
      const [r1, r2] = res ?? [];
      if (!r1 || !r2 || r1[0] || r2[0]) throw r1?.[0] ?? r2?.[0] ?? new Error('cardView: no reply');
      const h = r1[1] as Record<string, string>;
      const m = r2[1] as Record<string, string>;
      const decoded = decodeIncident(h);
      return {
        ...(decoded ? { inc: decoded } : {}),
        messages: m,
        shown: cardStateOf(h[`rh:${chat}`], h[`mk:${chat}`]),
      };
    },

    /** True when the incident reached the chat only inside a storm digest (no card of its own). */
    async onlyInDigest(inc: string, chat: string): Promise<boolean> {
      const [mid, dg] = await Promise.all([
        redis.hget(keys.messages(inc), chat),
        redis.hget(keys.incident(inc), `dg:${chat}`),
      ]);
      return !mid && !!dg;
    },

    /** The ticked items of an incident's post-incident checklist (item -> who). */
    async checklistState(inc: string): Promise<Record<string, string>> {
      return redis.hgetall(keys.checklist(inc));
    },

    /** A storm digest that has been sent, or undefined. */
    async digest(id: string): Promise<DigestRecord | undefined> {
      const [msg, sig, raw] = await redis.hmget(keys.obDigest(id), 'msg', 'sig', 'incs');
      if (!msg || !raw) return undefined;
      return {
        messageId: Number(msg),
        ...(sig ? { signature: sig } : {}),
        incidents: JSON.parse(raw) as string[],
      };
    },

    /** Jobs waiting in every chat's lanes. */
    async depth(): Promise<number> {
      const chats = await redis.zrange(keys.obReady(), 0, -1);
      if (chats.length === 0) return 0;
      const pipe = redis.pipeline();
      for (const c of chats) for (const lane of OUTBOX_LANES) pipe.llen(keys.obLane(c, lane));
      const res = (await pipe.exec()) ?? [];
      return res.reduce((s, [, n]) => s + Number(n ?? 0), 0);
    },
  };
}

export type OutboxStore = ReturnType<typeof createOutboxStore>;
