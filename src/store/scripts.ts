import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { projectRoot } from '../paths.js';
import {
  encodePlan,
  type BatchEffectResult,
  type EffectPlan,
  type EffectResult,
} from './effects.js';
import type { Keys } from './keys.js';
import { commonFor, keysUsedBy, luaDeclaredKeys, luaKeyTable, type StaticKey } from './lua-keys.js';

/**
 * The keys each script declares, in KEYS order, read by name in Lua (`S.<name>`). A static key
 * (a keys.ts builder without argument) is filled in here; the others are given by the wrapper.
 * inc_page takes its state indexes as KEYS instead (one per state asked for).
 */
const DECLARED = {
  incident_upsert: [
    'suppressionVersion',
    'seq',
    'obSeq',
    'rateLimit',
    'obReady',
    'timers',
    'openBySeverity',
    'silencedIndex',
    'resolvedAt',
  ],
  apply_effects: [
    'timerInflight',
    'timers',
    'obSeq',
    'obReady',
    'openBySeverity',
    'silencedIndex',
    'resolvedAt',
  ],
  outbox_claim: ['obInflight', 'obGlobal', 'obReady', 'obSeq'],
  outbox_finish: ['obInflight', 'obGlobal', 'obReady'],
  timer_claim: ['timerInflight', 'timers'],
  timer_hold: ['timerInflight', 'timers', 'fired', 'data', 'hold'],
  approval_vote: ['approval'],
  lock_release: ['lease'],
  lock_renew: ['lease'],
  ix_migrate: ['timers', 'openBySeverity', 'silencedIndex', 'resolvedAt'],
  ix_compact: ['resolvedAt', 'openBySeverity', 'silencedIndex'],
  trade_decide: ['trade', 'overrides'],
  override_add: ['overrides'],
  rate_slide: ['log', 'warned'],
  inc_page: [],
} as const;
type ScriptName = keyof typeof DECLARED;
type Declared<N extends ScriptName> = (typeof DECLARED)[N][number];
/** The keys a wrapper must give for script N (those that are not static keys). */
type Given<N extends ScriptName> = { [K in Exclude<Declared<N>, StaticKey>]: string };

let cache: Map<ScriptName, string> | undefined;
function sources(): Map<ScriptName, string> {
  if (!cache) {
    const dir = path.join(projectRoot(), 'src', 'store', 'lua');
    const common = readFileSync(path.join(dir, 'common.lua'), 'utf8');
    cache = new Map(
      (Object.keys(DECLARED) as ScriptName[]).map((n) => {
        const body = readFileSync(path.join(dir, `${n}.lua`), 'utf8');
        const helpers = commonFor(common, body);
        // the key builders this script and its helpers name, not all of keys.ts (see luaKeyTable)
        const head = luaKeyTable(keysUsedBy(`${helpers}\n${body}`));
        return [n, `${head}${luaDeclaredKeys(DECLARED[n])}${helpers}\n${body}`];
      }),
    );
  }
  return cache;
}

type Reply = string | number | null | Reply[];
type Arg = string | number;

export type IngestOutcome =
  'created' | 'updated' | 'acknowledged' | 'resolved' | 'unchanged' | 'ignored';
export type UpsertResult =
  | {
      kind: 'ok';
      results: { id: string; outcome: IngestOutcome }[];
      /** With a rate limit: how many of the call's requests were admitted (their items have results). */
      admitted?: number;
    }
  | { kind: 'stale' }
  | { kind: 'rate_limited' };
export type ClaimedJob = { kind: 'job'; job: string; slot: string };
/** The answer to one hit on a sliding-window limit (rate_slide.lua). */
export interface SlideHit {
  allowed: boolean;
  /** True for the first refused hit of a wait (it gets one polite answer; later ones get none). */
  firstRefusal: boolean;
  /** Milliseconds until a hit would be allowed again (0 when allowed). */
  retryAfterMs: number;
}
export type OutboxClaimResult = ClaimedJob | { kind: 'wait' | 'idle'; ms: number };
export type VoteOutcome =
  'expired' | 'done' | 'wrong_chat' | 'self' | 'dup' | 'rejected' | 'counted' | 'approved';
export type TradeOutcome =
  'gone' | 'done' | 'expired' | 'self' | 'forbidden' | 'accepted' | 'declined' | 'declined_one';

/**
 * One typed call per Lua script in src/store/lua. Every script gets the key prefix as ARGV[1] (for
 * the K table of keys found at run time) and its declared keys through KEYS, all built by keys.ts;
 * on a Cluster they share the prefix's hash tag, so each call goes to the one node owning them.
 */
export function createScripts(redis: Redis, keys: Keys) {
  for (const [name, lua] of sources()) {
    const cmd = `opsbot_${name}`;
    // numKeys is given per call (inc_page takes one key per state); EVALSHA, EVAL on NOSCRIPT
    if (!(cmd in redis)) redis.defineCommand(cmd, { lua });
  }
  const run = async <N extends ScriptName>(
    name: N,
    given: Given<N>,
    args: Arg[],
    extraKeys: string[] = [],
  ): Promise<Reply> => {
    const declared = DECLARED[name].map((k) => {
      const g = (given as Record<string, string | undefined>)[k];
      return g ?? (keys[k as StaticKey] as () => string)();
    });
    const all = [...declared, ...extraKeys];
    const fn = (redis as unknown as Record<string, (...a: Arg[]) => Promise<Reply>>)[
      `opsbot_${name}`
    ]!;
    return fn.apply(redis, [all.length, ...all, keys.prefix, ...args]);
  };

  return {
    /** incident_upsert.lua: a batch of alerts folded into incidents (see the script's header). */
    async incidentUpsert(a: {
      now: number;
      version?: string;
      rate?: { key: string; max: number; ttl: number };
      /** Several requests in one call (group commit): the item count of each, in order. */
      sizes?: number[];
      items: string;
      plans: string;
      alerts: string[];
    }): Promise<UpsertResult> {
      const res = (await run('incident_upsert', { rateLimit: a.rate?.key ?? keys.seq() }, [
        a.now,
        a.version ?? '',
        a.rate ? JSON.stringify({ max: a.rate.max, ttl: a.rate.ttl, sizes: a.sizes }) : '',
        a.items,
        a.plans,
        ...a.alerts,
      ])) as string[];
      if (res[0] === 'stale') return { kind: 'stale' };
      if (res[0] === 'rate_limited') return { kind: 'rate_limited' };
      const results: { id: string; outcome: IngestOutcome }[] = [];
      for (let i = 2; i < res.length; i += 2)
        results.push({ id: res[i]!, outcome: res[i + 1] as IngestOutcome });
      const admitted = Number(res[1]);
      return admitted < 0 ? { kind: 'ok', results } : { kind: 'ok', results, admitted };
    },

    /** apply_effects.lua: a guarded multi-key change, atomically. */
    async applyEffects(now: number, plan: EffectPlan): Promise<EffectResult> {
      return (await run('apply_effects', {}, [now, encodePlan(plan)])) as EffectResult;
    },

    /**
     * apply_effects.lua with a batch: each plan applied in turn under its own guards, all in one call
     * (atomic for the batch); one result per plan, 'error' for a plan that failed in the script.
     */
    async applyEffectsMany(now: number, plans: EffectPlan[]): Promise<BatchEffectResult[]> {
      if (plans.length === 0) return [];
      const args = plans.map((p) => encodePlan(p));
      return (await run('apply_effects', {}, [now, '*', ...args])) as BatchEffectResult[];
    },

    /** apply_effects.lua, and on success the fields of hash `read` as they are after the change. */
    async applyEffectsRead(
      now: number,
      plan: EffectPlan,
      read: string,
    ): Promise<{ result: EffectResult; hash?: Record<string, string> }> {
      const res = (await run('apply_effects', {}, [now, encodePlan(plan, read)])) as
        EffectResult | ['ok', string[]];
      if (!Array.isArray(res)) return { result: res };
      const flat = res[1];
      const hash: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
      return { result: 'ok', hash };
    },

    /** inc_page.lua: one read-API page: [next id or '', id, flat hash, timeline length, tail, ...]. */
    async incPage(a: { states: string[]; max: string; limit: number; tail: number }): Promise<{
      next: string;
      rows: { id: string; hash: string[]; total: number; tail: string[] }[];
    }> {
      const res = (await run(
        'inc_page',
        {},
        [a.max, a.limit, a.tail],
        a.states.map((s) => keys.stateIndex(s as 'triggered')),
      )) as [string, ...(string | number | string[])[]];
      const rows = [];
      for (let i = 1; i + 3 < res.length; i += 4)
        rows.push({
          id: res[i] as string,
          hash: res[i + 1] as string[],
          total: Number(res[i + 2]),
          tail: res[i + 3] as string[],
        });
      return { next: res[0], rows };
    },

    /** outbox_claim.lua: the next job the pacing allows now, or how long to wait. */
    async outboxClaim(a: {
      now: number;
      leaseMs: number;
      intervalMs: number;
      perMinute: number;
      perSecond: number;
      digestAt: number;
      digestMax: number;
    }): Promise<OutboxClaimResult> {
      const r = (await run('outbox_claim', {}, [
        a.now,
        a.leaseMs,
        a.intervalMs,
        a.perMinute,
        a.perSecond,
        a.digestAt,
        a.digestMax,
      ])) as string[];
      if (r[0] === 'job') return { kind: 'job', job: r[1]!, slot: r[2]! };
      return { kind: r[0] as 'wait' | 'idle', ms: Number(r[1]) };
    },

    /** outbox_finish.lua: settles a claimed job; false when it was no longer ours. */
    async outboxFinish(a: {
      now: number;
      jobId: string;
      chat: string;
      outcome: 'done' | 'noop' | 'retry';
      delayMs: number;
      /** Up to three hash fields to record (e.g. the sent message's id). */
      records?: ([key: string, field: string, value: string] | undefined)[];
      failure?: boolean;
      slot?: string;
    }): Promise<boolean> {
      const rec = (i: number) => a.records?.[i] ?? ['', '', ''];
      const r = await run('outbox_finish', {}, [
        a.now,
        a.jobId,
        a.chat,
        a.outcome,
        Math.ceil(a.delayMs),
        ...rec(0),
        a.failure ? 'err' : '',
        a.slot ?? '',
        ...rec(1),
        ...rec(2),
      ]);
      return r === 1;
    },

    /** timer_claim.lua: due timers handed to this caller, and the ms until the next one (-1: none). */
    async timerClaim(a: {
      now: number;
      leaseMs: number;
      max: number;
    }): Promise<{ timers: { id: string; data: string }[]; nextInMs: number }> {
      const r = (await run('timer_claim', {}, [a.now, a.leaseMs, a.max])) as string[];
      const timers = [];
      for (let i = 0; i + 1 < r.length; i += 2) timers.push({ id: r[i]!, data: r[i + 1]! });
      return { timers, nextInMs: Number(r[r.length - 1]) };
    },

    /** timer_hold.lua: the one right to do a claimed timer's outside work. */
    async timerHold(a: {
      now: number;
      id: string;
      holder: string;
      holdMs: number;
      leaseMs: number;
    }): Promise<'ok' | 'busy' | 'done'> {
      return (await run(
        'timer_hold',
        { fired: keys.timerFired(a.id), data: keys.timerData(a.id), hold: keys.timerSend(a.id) },
        [a.now, a.id, a.holder, a.holdMs, a.leaseMs],
      )) as 'ok' | 'busy' | 'done';
    },

    /** lock_renew.lua on a timer's hold: extends it while `holder` still has it. */
    async timerHoldRenew(id: string, holder: string, ms: number): Promise<boolean> {
      return (await run('lock_renew', { lease: keys.timerSend(id) }, [holder, ms])) !== 0;
    },

    /** rate_slide.lua: one hit on a sliding-window limit (see the script's header). */
    async rateSlide(a: {
      log: string;
      warned: string;
      now: number;
      max: number;
      windowMs: number;
      hitId: string;
    }): Promise<SlideHit> {
      const [allowed, first, wait] = (await run('rate_slide', { log: a.log, warned: a.warned }, [
        a.now,
        a.max,
        a.windowMs,
        a.hitId,
      ])) as number[];
      return { allowed: allowed === 1, firstRefusal: first === 1, retryAfterMs: Number(wait) };
    },

    /** lock_release.lua: drops a named lock only if `holder` still has it. */
    async lockRelease(name: string, holder: string): Promise<boolean> {
      return (await run('lock_release', { lease: keys.lock(name) }, [holder])) !== 0;
    },

    /** lock_renew.lua: extends a named lock only if `holder` still has it. */
    async lockRenew(name: string, holder: string, leaseMs: number): Promise<boolean> {
      return (await run('lock_renew', { lease: keys.lock(name) }, [holder, leaseMs])) !== 0;
    },

    /** approval_vote.lua: one vote on a runbook approval request. */
    async approvalVote(a: {
      now: number;
      token: string;
      voter: string;
      voterId: string;
      vote: 'y' | 'n';
      chatId: string;
    }): Promise<{ outcome: VoteOutcome; have: number; needed: number }> {
      const [raw, have, needed] = (await run(
        'approval_vote',
        { approval: keys.approval(a.token) },
        [a.now, a.token, a.voter, a.voterId, a.vote, a.chatId],
      )) as [string, number, number];
      const outcome = (raw.startsWith('done:') ? 'done' : raw) as VoteOutcome;
      return { outcome, have, needed };
    },

    /** trade_decide.lua: one Accept/Decline press; the raw outcome (`done:<state>` kept). */
    async tradeDecide(a: {
      now: number;
      id: string;
      who: string;
      telegramId: string;
      accept: boolean;
    }): Promise<string> {
      return String(
        await run('trade_decide', { trade: keys.trade(a.id) }, [
          a.now,
          a.id,
          a.who,
          a.telegramId,
          a.accept ? 'y' : 'n',
        ]),
      );
    },

    /** override_add.lua: appends runtime overrides to a schedule; the number it now has. */
    async overrideAdd(
      now: number,
      schedule: string,
      overrides: { person: string; from: number; to: number }[],
    ): Promise<number> {
      return Number(await run('override_add', {}, [now, schedule, JSON.stringify(overrides)]));
    },

    /** ix_migrate.lua: counts a batch of incidents stored before the indexes; how many it counted. */
    async ixMigrate(now: number, ids: string[]): Promise<number> {
      return Number(await run('ix_migrate', {}, [now, ...ids]));
    },

    /** ix_compact.lua: deletes up to `batch` incidents resolved before `cutoff`; how many. */
    async ixCompact(now: number, cutoff: number, batch: number): Promise<number> {
      return Number(await run('ix_compact', {}, [now, cutoff, batch]));
    },
  };
}

export type Scripts = ReturnType<typeof createScripts>;
