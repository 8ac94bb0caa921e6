import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { Alert } from '../domain/alert.js';
import type { Incident, IncidentState, TimelineEntry } from '../domain/incident.js';
import { SEVERITIES } from '../domain/severity.js';
import { decodeIncident } from './incident-codec.js';
import { readEscalationStates } from './escalation.js';
import type { BatchEffectResult, EffectPlan, EffectResult } from './effects.js';
import { encodeBatch, type RoutedAlert } from './incident-ingest.js';
import { createIngestQueue, type IngestEntry, type IngestOpts } from './ingest-queue.js';
import { readAggregates, readCounts, type Counts } from './incident-reads.js';
import type { Keys } from './keys.js';
import type { IngestOutcome, Scripts, UpsertResult } from './scripts.js';

export type { BatchEffectResult, EffectPlan, EffectResult } from './effects.js';
export { mergePlans } from './effects.js';
export type { RoutedAlert } from './incident-ingest.js';
export { readCounts, type Counts, type DailyAggregates } from './incident-reads.js';
export type { IngestOutcome } from './scripts.js';

/** Redis access for incidents: ingest, read, and atomic effect plans. */
export function createIncidentRepository(deps: {
  redis: Redis;
  keys: Keys;
  scripts: Scripts;
  clock: Clock;
  /** Told how many intake requests each `incident_upsert` call stored (group commit's metric). */
  onIngestCall?: (requests: number) => void;
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
   * in the same call; over it, nothing is written and the answer is `rate_limited`. Requests that
   * arrive while others are on their way share a call (group commit, see ingest-queue.ts), each with
   * its own answer.
   */
  const queue = createIngestQueue((entries, o) => {
    deps.onIngestCall?.(o.requests ?? 1);
    return scripts.incidentUpsert({
      now: o.now,
      version: o.version,
      rate: o.rate,
      sizes: o.sizes,
      ...encodeBatch(entries, o.now),
    });
  });
  const ingestBatch = (entries: IngestEntry[], opts: IngestOpts): Promise<UpsertResult> =>
    queue.submit(entries, opts);

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
      return scripts.applyEffects(clock.now(), plan);
    },

    /** Several plans in one script call, each under its own guards; one result per plan, in order. */
    async applyMany(plans: EffectPlan[]): Promise<BatchEffectResult[]> {
      return scripts.applyEffectsMany(clock.now(), plans);
    },

    /** What firing a level reads of each incident of `ids`, in one round trip (see EscalationState). */
    escalationStates: (ids: string[]) => readEscalationStates(redis, keys, ids),

    /** `apply`, and on success incident `id` as the change left it, in the same script call. */
    async applyThenGet(
      plan: EffectPlan,
      id: string,
    ): Promise<{ result: EffectResult; inc?: Incident }> {
      const { result, hash } = await scripts.applyEffectsRead(clock.now(), plan, keys.incident(id));
      return hash ? { result, inc: decodeIncident(hash) } : { result };
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
      const res = await scripts.incPage({
        states,
        max,
        limit: opts.limit,
        tail: opts.timeline ?? 0,
      });
      const incidents: Incident[] = [];
      const timelines = new Map<string, { entries: TimelineEntry[]; total: number }>();
      for (const row of res.rows) {
        const h: Record<string, string> = {};
        for (let k = 0; k < row.hash.length; k += 2) h[row.hash[k]!] = row.hash[k + 1]!;
        const inc = decodeIncident(h);
        if (!inc) continue;
        incidents.push(inc);
        timelines.set(row.id, {
          entries: row.tail.map((r) => JSON.parse(r) as TimelineEntry),
          total: row.total,
        });
      }
      return { incidents, next: res.next || undefined, timelines };
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
    aggregates: (fromDay: number, toDay: number) => readAggregates(redis, keys, fromDay, toDay),

    /** At most `limit` open incidents, the most recent first (a bounded read for previews). */
    async recentOpen(limit: number): Promise<Incident[]> {
      return getMany(await idsOf(['triggered', 'acknowledged'], limit, true));
    },
  };
}

export type PageState = IncidentState | 'open' | 'all';

export type IncidentRepository = ReturnType<typeof createIncidentRepository>;
