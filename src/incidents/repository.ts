import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { scopeDedup } from '../intake/dedup.js';
import type { Alert, Severity } from '../intake/types.js';
import type { Keys } from '../store/keys.js';
import type { Scripts } from '../store/scripts.js';
import { decodeIncident, type Incident, type TimelineEntry } from './model.js';

export type IngestOutcome =
  'created' | 'updated' | 'acknowledged' | 'resolved' | 'unchanged' | 'ignored';

/** A multi-key change for apply_effects.lua; see the header of that script. */
export interface EffectPlan {
  once?: string;
  release?: string;
  guards?: {
    key: string;
    field: string;
    eq?: string;
    ne?: string;
    missing?: boolean;
    exists?: boolean;
  }[];
  hset?: { key: string; field: string; value: string | number }[];
  hdel?: { key: string; field: string }[];
  timeline?: { inc: string; entry: TimelineEntry }[];
  sync?: { inc: string; extra?: string[] }[];
  outbox?: {
    chat: string;
    kind: string;
    data: Record<string, unknown>;
    coalesce?: string;
    new?: boolean;
  }[];
  timers?: { id: string; due: number; data: Record<string, unknown> }[];
  cancel?: string[];
  zadd?: { key: string; score: number; member: string }[];
  zrem?: { key: string; member: string }[];
  del?: string[];
  incr?: { key: string; by?: number }[];
}
export type EffectResult = 'ok' | 'stale' | 'dup';

export interface RoutedAlert {
  severity: Severity;
  chats: string[];
  notify: boolean;
  /** Fields and timers a newly created incident starts with; `%ID%` stands for its id. */
  onCreate?: {
    hset: Record<string, string | number>;
    timers: { id: string; due: number; data: Record<string, unknown> }[];
    /** Private chats that subscribed to new incidents of this severity. */
    dms?: string[];
  };
}

/** Redis access for incidents: ingest, read, and atomic effect plans. */
export function createIncidentRepository(deps: {
  redis: Redis;
  keys: Keys;
  scripts: Scripts;
  clock: Clock;
}) {
  const { redis, keys, scripts, clock } = deps;

  async function get(id: string): Promise<Incident | undefined> {
    return decodeIncident(await redis.hgetall(keys.incident(id)));
  }

  async function getMany(ids: string[]): Promise<Incident[]> {
    if (ids.length === 0) return [];
    const pipe = redis.pipeline();
    for (const id of ids) pipe.hgetall(keys.incident(id));
    const res = (await pipe.exec()) ?? [];
    return res
      .map(([, h]) => decodeIncident(h as Record<string, string>))
      .filter((i): i is Incident => !!i);
  }

  return {
    get,
    getMany,

    /** Folds an alert into its incident (one Lua script); the incident and its outbox jobs are stored together. */
    async ingest(
      alert: Alert,
      routed: RoutedAlert,
    ): Promise<{ id: string; outcome: IngestOutcome }> {
      const now = clock.now();
      const started = alert.startsAt ? Date.parse(alert.startsAt) : NaN;
      const fields = {
        title: alert.title,
        description: alert.description ?? '',
        severity: routed.severity,
        source: alert.integration || alert.source,
        integration: alert.integration,
        chats: routed.chats,
        labels: alert.labels,
        links: alert.links,
        started_at: Number.isFinite(started) && started > 0 && started <= now ? started : now,
      };
      const res = (await scripts.run('incident_upsert', [
        keys.prefix,
        now,
        // per-integration: another integration's token never reaches this incident (intake/dedup.ts)
        scopeDedup(alert.integration, alert.dedupKey),
        alert.fingerprint,
        alert.status,
        alert.acknowledge ? '1' : '0',
        JSON.stringify(alert),
        JSON.stringify(fields),
        routed.notify ? '1' : '0',
        JSON.stringify(routed.onCreate ?? {}),
      ])) as [string, IngestOutcome];
      return { id: res[0], outcome: res[1] };
    },

    async apply(plan: EffectPlan): Promise<EffectResult> {
      return (await scripts.run('apply_effects', [
        keys.prefix,
        clock.now(),
        JSON.stringify(plan),
      ])) as EffectResult;
    },

    async timeline(id: string): Promise<TimelineEntry[]> {
      const raw = await redis.lrange(keys.timeline(id), 0, -1);
      return raw.map((r) => JSON.parse(r) as TimelineEntry);
    },

    async alerts(id: string): Promise<Alert[]> {
      const raw = await redis.hvals(keys.alerts(id));
      return raw.map((r) => JSON.parse(r) as Alert);
    },

    async messages(id: string): Promise<Record<string, string>> {
      return redis.hgetall(keys.messages(id));
    },

    async listOpen(): Promise<Incident[]> {
      return getMany(await redis.zrange(keys.open(), 0, -1));
    },

    async listSince(since: number): Promise<Incident[]> {
      return getMany(await redis.zrangebyscore(keys.all(), since, '+inf'));
    },

    async countOpen(): Promise<number> {
      return redis.zcard(keys.open());
    },

    /** At most `limit` open incidents, the most recent first (a bounded read for previews). */
    async recentOpen(limit: number): Promise<Incident[]> {
      return getMany(await redis.zrevrange(keys.open(), 0, Math.max(0, limit - 1)));
    },
  };
}

export type IncidentRepository = ReturnType<typeof createIncidentRepository>;

/** One plan doing what each of `plans` does (lists concatenated; `once`/`release` from the first that has them). */
export function mergePlans(...plans: (EffectPlan | undefined)[]): EffectPlan {
  const out: Record<string, unknown> = {};
  for (const p of plans)
    for (const [k, v] of Object.entries(p ?? {})) {
      if (Array.isArray(v)) out[k] = [...((out[k] as unknown[] | undefined) ?? []), ...v];
      else if (v !== undefined) out[k] ??= v;
    }
  return out as EffectPlan;
}
