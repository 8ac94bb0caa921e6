import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { IncidentState } from '../domain/incident.js';
import { SEVERITIES, type Severity } from '../domain/severity.js';
import type { Keys } from './keys.js';

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

/**
 * The daily aggregates of the UTC days `fromDay..toDay` (day = ms / 86,400,000): per severity and
 * integration counts and histograms, and the top five titles and responders over those days
 * (summed inside Redis into a short-lived key, so only five rows come back).
 */
export async function readAggregates(
  redis: Redis,
  keys: Keys,
  fromDay: number,
  toDay: number,
): Promise<DailyAggregates> {
  const days: number[] = [];
  for (let d = fromDay; d <= toDay; d++) days.push(d);
  // one round trip: the day hashes, then each top five summed into a short-lived key and dropped
  // (commands of one pipeline run in order on one connection, so the key is ours throughout)
  const pipe = redis.pipeline();
  for (const d of days) pipe.hgetall(keys.aggDay(d));
  for (const key of [keys.aggNoisy, keys.aggResponders]) {
    const tmp = `${keys.prefix}tmp:agg:${randomBytes(6).toString('hex')}`;
    pipe.zunionstore(tmp, days.length, ...days.map(key));
    pipe.zrevrange(tmp, 0, 4, 'WITHSCORES');
    pipe.del(tmp);
  }
  const res = (await pipe.exec()) ?? [];
  const fields = new Map<string, number>();
  for (const [err, h] of res.slice(0, days.length)) {
    if (err) throw err;
    for (const [k, v] of Object.entries(h as Record<string, string>))
      fields.set(k, (fields.get(k) ?? 0) + Number(v));
  }
  const top = (i: number): [string, number][] => {
    const [err, flat] = res[days.length + i * 3 + 1] ?? [];
    if (err) throw err;
    const out: [string, number][] = [];
    const f = (flat as string[] | undefined) ?? [];
    for (let j = 0; j < f.length; j += 2) out.push([f[j]!, Number(f[j + 1])]);
    return out;
  };
  return { fields, noisy: top(0), responders: top(1) };
}
