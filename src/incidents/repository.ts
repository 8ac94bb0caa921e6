import { randomBytes } from 'node:crypto';
import type { TimerSpec } from '../domain/timers.js';
import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { OutboxEntry } from '../domain/outbox.js';
import { scopeDedup } from '../domain/dedup.js';
import { SEVERITIES, type Severity } from '../domain/severity.js';
import type { Alert } from '../domain/alert.js';
import type { Keys } from '../store/keys.js';
import type { Scripts } from '../store/scripts.js';
import { decodeIncident } from '../store/incident-codec.js';
import type { Incident, IncidentState, TimelineEntry } from '../domain/incident.js';

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
  outbox?: OutboxEntry[];
  timers?: TimerSpec[];
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
    timers: TimerSpec[];
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

  const counts = (): Promise<Counts> => readCounts(redis, keys);

  /** Ids of the incidents in `states`, by incident number (`desc`: newest first), at most `max`. */
  async function idsOf(states: IncidentState[], max: number, desc: boolean): Promise<string[]> {
    if (max <= 0) return [];
    const pipe = redis.pipeline();
    for (const st of states)
      if (desc) pipe.zrevrange(keys.stateIndex(st), 0, max - 1, 'WITHSCORES');
      else pipe.zrange(keys.stateIndex(st), 0, max - 1, 'WITHSCORES');
    const rows: [string, number][] = [];
    for (const [err, r] of (await pipe.exec()) ?? []) {
      if (err) throw err;
      const flat = r as string[];
      for (let i = 0; i < flat.length; i += 2) rows.push([flat[i]!, Number(flat[i + 1])]);
    }
    rows.sort((a, b) => (desc ? b[1] - a[1] : a[1] - b[1]));
    return rows.slice(0, max).map(([id]) => id);
  }

  /**
   * Folds a batch of alerts into their incidents in one script call (incident_upsert.lua): the
   * incidents, their outbox jobs and timers are stored together, atomically for the whole batch.
   * `version` is the suppression version the routing decisions were made at: when it moved, nothing
   * is written and the answer is `stale`. `rate` counts the request against an integration's limit
   * in the same call; over it, nothing is written and the answer is `rate_limited`.
   */
  async function ingestBatch(
    entries: { alert: Alert; routed: RoutedAlert }[],
    opts: {
      now: number;
      version?: string;
      rate?: { key: string; max: number; ttl: number };
    },
  ): Promise<
    | { kind: 'ok'; results: { id: string; outcome: IngestOutcome }[] }
    | { kind: 'stale' }
    | { kind: 'rate_limited' }
  > {
    const { now } = opts;
    const plans: string[] = [];
    const planIndex = new Map<string, number>();
    const items: unknown[] = [];
    const alertsJson: string[] = [];
    for (const { alert, routed } of entries) {
      const started = alert.startsAt ? Date.parse(alert.startsAt) : NaN;
      const plan = JSON.stringify(routed.onCreate ?? {});
      let c = planIndex.get(plan);
      if (c === undefined) {
        plans.push(plan);
        c = plans.length;
        planIndex.set(plan, c);
      }
      items.push({
        // per-integration: another integration's token never reaches this incident (intake/dedup.ts)
        d: scopeDedup(alert.integration, alert.dedupKey),
        fp: alert.fingerprint,
        st: alert.status,
        ack: alert.acknowledge ? 1 : 0,
        n: routed.notify ? 1 : 0,
        sev: routed.severity,
        ch: routed.chats,
        cj: JSON.stringify(routed.chats),
        c,
        f: {
          title: alert.title,
          description: alert.description ?? '',
          source: alert.integration || alert.source,
          integration: alert.integration,
          labels: JSON.stringify(alert.labels),
          links: JSON.stringify(alert.links),
          started_at: Number.isFinite(started) && started > 0 && started <= now ? started : now,
          image: alert.imageUrl ?? '',
        },
      });
      alertsJson.push(JSON.stringify(alert));
    }
    const res = (await scripts.run('incident_upsert', [
      keys.prefix,
      now,
      opts.version ?? '',
      opts.rate ? JSON.stringify({ k: opts.rate.key, max: opts.rate.max, ttl: opts.rate.ttl }) : '',
      JSON.stringify(items),
      `[${plans.join(',')}]`,
      ...alertsJson,
    ])) as string[];
    if (res[0] === 'stale') return { kind: 'stale' };
    if (res[0] === 'rate_limited') return { kind: 'rate_limited' };
    const results: { id: string; outcome: IngestOutcome }[] = [];
    for (let i = 1; i < res.length; i += 2)
      results.push({ id: res[i]!, outcome: res[i + 1] as IngestOutcome });
    return { kind: 'ok', results };
  }

  return {
    get,
    getMany,

    ingestBatch,

    /** One alert, no suppression-version check: `ingestBatch` of one (tests and tools). */
    async ingest(
      alert: Alert,
      routed: RoutedAlert,
    ): Promise<{ id: string; outcome: IngestOutcome }> {
      const res = await ingestBatch([{ alert, routed }], { now: clock.now() });
      if (res.kind !== 'ok') throw new Error(`ingest: ${res.kind}`);
      return res.results[0]!;
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

    /** Open incidents, oldest first, at most `max` (bounded: use `openPage` or `page` to walk all). */
    async listOpen(max = 1000): Promise<Incident[]> {
      return getMany(await idsOf(['triggered', 'acknowledged'], max, false));
    },

    /** Incidents created since `since`, newest first, at most `max` (incident numbers count up in
     * creation order, so the walk stops at the first one created earlier). */
    async listSince(since: number, max = 1000): Promise<Incident[]> {
      const ids = await idsOf(['triggered', 'acknowledged', 'resolved'], max, true);
      const out: Incident[] = [];
      for (const inc of await getMany(ids)) {
        if (inc.createdAt < since) break;
        out.push(inc);
      }
      return out;
    },

    async countOpen(): Promise<number> {
      const c = await counts();
      return SEVERITIES.reduce((n, sev) => n + c.open[sev], 0);
    },

    counts,

    /** The oldest incident still triggered (not acknowledged), from the triggered-only index. */
    async oldestUnacknowledged(): Promise<Incident | undefined> {
      const [id] = await redis.zrange(keys.stateIndex('triggered'), 0, 0);
      return id ? get(id) : undefined;
    },

    /** Open incidents silenced now (created while silenced, or silenced until later than now). */
    async countSilenced(): Promise<number> {
      return redis.zcount(keys.silencedIndex(), `(${clock.now()}`, '+inf');
    },

    /** One page of open incidents in /incidents order (severity, then oldest first). */
    async openPage(
      offset: number,
      count: number,
    ): Promise<{ total: number; incidents: Incident[] }> {
      const [total, ids] = await Promise.all([
        redis.zcard(keys.openBySeverity()),
        redis.zrange(keys.openBySeverity(), offset, offset + count - 1),
      ]);
      return { total, incidents: await getMany(ids) };
    },

    /**
     * One page of incidents, newest first, from the per-state indexes (scored by incident number,
     * which counts up in creation order). `cursor` is the last id of the previous page; the page
     * holds incidents with a lower number, so new incidents never shift a walk in progress. With
     * `timeline`, each incident's last `timeline` entries and timeline length come along. One round
     * trip (inc_page.lua): index ranges, hashes and timeline tails read in one script.
     */
    async page(opts: {
      state?: PageState;
      limit: number;
      cursor?: number;
      timeline?: number;
    }): Promise<{
      incidents: Incident[];
      next?: string;
      timelines: Map<string, { entries: TimelineEntry[]; total: number }>;
    }> {
      const states: IncidentState[] =
        opts.state === 'open'
          ? ['triggered', 'acknowledged']
          : opts.state && opts.state !== 'all'
            ? [opts.state]
            : ['triggered', 'acknowledged', 'resolved'];
      const max = opts.cursor === undefined ? '+inf' : `(${opts.cursor}`;
      const res = (await scripts.run('inc_page', [
        keys.prefix,
        max,
        opts.limit,
        opts.timeline ?? 0,
        ...states,
      ])) as [string, ...(string | number | string[])[]];
      const incidents: Incident[] = [];
      const timelines = new Map<string, { entries: TimelineEntry[]; total: number }>();
      for (let i = 1; i + 3 < res.length; i += 4) {
        const id = res[i] as string;
        const flat = res[i + 1] as string[];
        const h: Record<string, string> = {};
        for (let k = 0; k < flat.length; k += 2) h[flat[k]!] = flat[k + 1]!;
        const inc = decodeIncident(h);
        if (!inc) continue;
        incidents.push(inc);
        timelines.set(id, {
          entries: (res[i + 3] as string[]).map((r) => JSON.parse(r) as TimelineEntry),
          total: Number(res[i + 2]),
        });
      }
      return { incidents, next: res[0] || undefined, timelines };
    },

    /** The last `n` timeline entries of each incident, and each timeline's length (one round trip). */
    async timelineTails(
      ids: string[],
      n: number,
    ): Promise<Map<string, { entries: TimelineEntry[]; total: number }>> {
      const out = new Map<string, { entries: TimelineEntry[]; total: number }>();
      if (ids.length === 0) return out;
      const pipe = redis.pipeline();
      for (const id of ids) {
        pipe.lrange(keys.timeline(id), -n, -1);
        pipe.llen(keys.timeline(id));
      }
      const res = (await pipe.exec()) ?? [];
      ids.forEach((id, i) => {
        const raw = (res[2 * i]?.[1] as string[] | undefined) ?? [];
        out.set(id, {
          entries: raw.map((r) => JSON.parse(r) as TimelineEntry),
          total: Number(res[2 * i + 1]?.[1] ?? 0),
        });
      });
      return out;
    },

    /**
     * The daily aggregates of the UTC days `fromDay..toDay` (day = ms / 86,400,000): per severity and
     * integration counts and histograms, and the top five titles and responders over those days
     * (summed inside Redis into a short-lived key, so only five rows come back).
     */
    async aggregates(fromDay: number, toDay: number): Promise<DailyAggregates> {
      const days: number[] = [];
      for (let d = fromDay; d <= toDay; d++) days.push(d);
      const pipe = redis.pipeline();
      for (const d of days) pipe.hgetall(keys.aggDay(d));
      const res = (await pipe.exec()) ?? [];
      const fields = new Map<string, number>();
      for (const [err, h] of res) {
        if (err) throw err;
        for (const [k, v] of Object.entries(h as Record<string, string>))
          fields.set(k, (fields.get(k) ?? 0) + Number(v));
      }
      const top = async (key: (d: number) => string): Promise<[string, number][]> => {
        const tmp = `${keys.prefix}tmp:agg:${randomBytes(6).toString('hex')}`;
        const tx = redis.multi();
        tx.zunionstore(tmp, days.length, ...days.map(key));
        tx.zrevrange(tmp, 0, 4, 'WITHSCORES');
        tx.del(tmp);
        const r = (await tx.exec()) ?? [];
        const flat = (r[1]?.[1] as string[] | undefined) ?? [];
        const out: [string, number][] = [];
        for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, Number(flat[i + 1])]);
        return out;
      };
      return {
        fields,
        noisy: await top(keys.aggNoisy),
        responders: await top(keys.aggResponders),
      };
    },

    /** At most `limit` open incidents, the most recent first (a bounded read for previews). */
    async recentOpen(limit: number): Promise<Incident[]> {
      return getMany(await idsOf(['triggered', 'acknowledged'], limit, true));
    },
  };
}

export type PageState = IncidentState | 'open' | 'all';

/**
 * Open incidents by severity and incidents by state, read from the indexes the scripts keep (one
 * round trip, O(log n)): a state's count is its index's size, a severity's open count the size of
 * its score range in `incs:opensev` (severity rank * 1e12 + incident number).
 */
export async function readCounts(redis: Redis, keys: Keys): Promise<Counts> {
  const states: IncidentState[] = ['triggered', 'acknowledged', 'resolved'];
  const pipe = redis.pipeline();
  for (const st of states) pipe.zcard(keys.stateIndex(st));
  SEVERITIES.forEach((_, rank) =>
    pipe.zcount(keys.openBySeverity(), rank * 1e12, `(${(rank + 1) * 1e12}`),
  );
  const res = (await pipe.exec()) ?? [];
  const n = (i: number) => {
    const [err, v] = res[i] ?? [];
    if (err) throw err;
    return Number(v ?? 0) || 0;
  };
  return {
    open: Object.fromEntries(SEVERITIES.map((sev, rank) => [sev, n(3 + rank)])) as Record<
      Severity,
      number
    >,
    states: { triggered: n(0), acknowledged: n(1), resolved: n(2) },
  };
}

export interface Counts {
  open: Record<Severity, number>;
  states: Record<IncidentState, number>;
}

/** Summed daily aggregate fields (`<sev>|<integration>|n|a|r|b|ta<i>|tr<i>`) and top fives. */
export interface DailyAggregates {
  fields: Map<string, number>;
  noisy: [string, number][];
  responders: [string, number][];
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
