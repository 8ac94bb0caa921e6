import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { Keys } from '../store/keys.js';
import type { OpsbotConfig, Role } from '../config.js';
import { matchLabels, rejectsEmpty, specProblem, toSpec, type MatchOp } from '../matching/re2.js';

/** A silence (/silence) or maintenance window (/maintenance): matching incidents are recorded, not notified. */
export interface Suppression {
  id: string;
  matchers: Record<string, string>;
  until: number;
  by: string;
  createdAt: number;
  reason?: string;
}

/** A /silence shown as a preview, waiting for its author's Confirm. */
export interface PendingSilence {
  matchers: Record<string, string>;
  until: number;
  reason?: string;
  /** Name and Telegram id of the person who asked; only they may confirm or cancel. */
  by: string;
  byId: number;
}

/** How long a preview waits for Confirm. */
export const PENDING_SILENCE_TTL_MS = 10 * 60_000;

/**
 * Parses `key=value key=~re key!=v key!~re` matchers (RE2, fully anchored; see src/matching/re2.ts).
 * A bad one gives the token and the problem (not a matcher, invalid or too long regex).
 */
export function parseMatchers(
  tokens: string[],
): { matchers: Record<string, string> } | { error: string; problem?: string } {
  const matchers: Record<string, string> = {};
  for (const tok of tokens) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(=~|!~|!=|=)(.+)$/.exec(tok);
    if (!m) return { error: tok };
    const [, k, op, v] = m as unknown as [string, string, string, string];
    const spec = toSpec(op as MatchOp, v);
    const problem = specProblem(spec);
    if (problem) return { error: tok, problem };
    matchers[k] = spec;
  }
  return { matchers };
}

/** True when some matcher cannot hold for a missing label, so the set cannot match every alert. */
export function cannotMatchEverything(matchers: Record<string, string>): boolean {
  return Object.values(matchers).some(rejectsEmpty);
}

/** The longest silence a role may set (`silences.max_duration`); viewers may set none. */
export function maxSilenceMs(cfg: OpsbotConfig, role: Role): number {
  const m = cfg.silences.max_duration;
  if (role === 'admin') return m.admin;
  if (role === 'approver') return m.approver ?? m.responder;
  if (role === 'responder') return m.responder;
  return 0;
}

function store(kind: 'silences' | 'maintenance') {
  return (deps: { redis: Redis; keys: Keys; clock: Clock }) => {
    const { redis, keys, clock } = deps;
    const key = kind === 'silences' ? keys.silences() : keys.maintenance();
    async function active(): Promise<Suppression[]> {
      const now = clock.now();
      const all = Object.values(await redis.hgetall(key)).map((v) => JSON.parse(v) as Suppression);
      const expired = all.filter((s) => s.until <= now).map((s) => s.id);
      if (expired.length) await redis.hdel(key, ...expired);
      return all.filter((s) => s.until > now).sort((a, b) => a.until - b.until);
    }
    return {
      active,
      async add(s: Omit<Suppression, 'id' | 'createdAt'>): Promise<Suppression> {
        const full = { ...s, id: randomBytes(6).toString('hex'), createdAt: clock.now() };
        // the version bump tells intake's cache (checked inside its script) to reload at once
        await redis
          .multi()
          .hset(key, full.id, JSON.stringify(full))
          .incr(keys.suppressionVersion())
          .exec();
        return full;
      },
      /**
       * A new entry and the hash field that stores it, for callers that store it inside a larger
       * atomic plan (a /silence and its Alertmanager copies).
       */
      /**
       * The silence as part of a larger atomic plan: its hash entry and the version bump that tells
       * intake's cache to reload (leaving the bump out would let alerts through until another change).
       */
      prepare(s: Omit<Suppression, 'id' | 'createdAt'>): {
        entry: Suppression;
        hset: { key: string; field: string; value: string };
        incr: { key: string; by: number };
      } {
        const entry = { ...s, id: randomBytes(6).toString('hex'), createdAt: clock.now() };
        return {
          entry,
          hset: { key, field: entry.id, value: JSON.stringify(entry) },
          incr: { key: keys.suppressionVersion(), by: 1 },
        };
      },
      async expire(id: string): Promise<boolean> {
        const res = await redis.multi().hdel(key, id).incr(keys.suppressionVersion()).exec();
        return Number(res?.[0]?.[1] ?? 0) > 0;
      },
      /** Stores a silence awaiting confirmation under a random 128-bit token (expires). */
      async propose(p: PendingSilence): Promise<string> {
        const token = randomBytes(16).toString('hex');
        await redis.set(
          keys.silencePending(token),
          JSON.stringify(p),
          'PX',
          PENDING_SILENCE_TTL_MS,
        );
        return token;
      },
      /** The pending silence under this token, if it has not expired or been taken. */
      async pending(token: string): Promise<PendingSilence | undefined> {
        const raw = await redis.get(keys.silencePending(token));
        return raw ? (JSON.parse(raw) as PendingSilence) : undefined;
      },
      /** Takes the pending silence once (GETDEL): of two presses, one gets it. */
      async takePending(token: string): Promise<PendingSilence | undefined> {
        const raw = await redis.getdel(keys.silencePending(token));
        return raw ? (JSON.parse(raw) as PendingSilence) : undefined;
      },
      /** The active entry matching these labels that lasts longest, if any. */
      async matching(labels: Record<string, string>): Promise<Suppression | undefined> {
        const hits = (await active()).filter((s) => matchLabels(s.matchers, labels));
        return hits.sort((a, b) => b.until - a.until)[0];
      },
    };
  };
}

export const createSilences = store('silences');
export const createMaintenance = store('maintenance');
export type SuppressionStore = ReturnType<typeof createSilences>;

/**
 * What intake checks every alert against: active silences and maintenance windows and the DM
 * subscriptions, read in one round trip with the version (`sup:ver`) every change to them bumps.
 * Intake keeps this in memory and hands the version to its script, which refuses the batch when the
 * version moved (nothing written); intake then reloads and retries, so a new silence applies to the
 * very next alert, on every replica.
 */
export interface SuppressionSnapshot {
  version: string;
  silences: Suppression[];
  maintenance: Suppression[];
  dmSubs: Record<string, string>;
}

export async function loadSuppressionSnapshot(
  redis: Redis,
  keys: Keys,
): Promise<SuppressionSnapshot> {
  const res =
    (await redis
      .multi()
      .get(keys.suppressionVersion())
      .hgetall(keys.silences())
      .hgetall(keys.maintenance())
      .hgetall(keys.dmSubs())
      .exec()) ?? [];
  for (const [err] of res) if (err) throw err;
  const list = (i: number) =>
    Object.values((res[i]?.[1] as Record<string, string> | undefined) ?? {}).map(
      (v) => JSON.parse(v) as Suppression,
    );
  return {
    version: (res[0]?.[1] as string | null) ?? '0',
    silences: list(1),
    maintenance: list(2),
    dmSubs: (res[3]?.[1] as Record<string, string> | undefined) ?? {},
  };
}

/** The active entry of `list` matching these labels that lasts longest, if any (no Redis). */
export function matchingSuppression(
  list: Suppression[],
  labels: Record<string, string>,
  now: number,
): Suppression | undefined {
  let best: Suppression | undefined;
  for (const s of list)
    if (s.until > now && matchLabels(s.matchers, labels) && (!best || s.until > best.until))
      best = s;
  return best;
}
