import type { Redis } from 'ioredis';
import { readCounts } from '../../src/store/incidents.js';
import { SEVERITIES } from '../../src/domain/severity.js';
import type { Keys } from '../../src/store/keys.js';

const DAY = 86_400_000;
/** Mirrors common.lua's ix_bucket. */
export function bucketOf(ms: number): number {
  if (ms <= 10_000) return 0;
  return Math.min(40, Math.ceil(2 * Math.log2(ms / 10_000) - 1e-9));
}

/**
 * Recounts, from every incident hash under the prefix, what the scripts' counters, indexes and daily
 * aggregates should hold, and reads what they do hold. Test-only: it loads everything.
 */
export async function recount(redis: Redis, keys: Keys) {
  const ids: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${keys.prefix}inc:{*}`, 'COUNT', 1000);
    cursor = next;
    for (const k of found) {
      const m = /inc:\{(INC-\d+)\}$/.exec(k);
      if (m) ids.push(m[1]!);
    }
  } while (cursor !== '0');
  const want = {
    open: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<string, number>,
    states: { triggered: 0, acknowledged: 0, resolved: 0 } as Record<string, number>,
    index: { triggered: [], acknowledged: [], resolved: [] } as Record<string, string[]>,
    opensev: [] as string[],
    silencedOpen: [] as string[],
    agg: {} as Record<string, number>,
  };
  for (const id of ids) {
    const h = await redis.hgetall(keys.incident(id));
    want.states[h.state!]! += 1;
    want.index[h.state!]!.push(id);
    if (h.state !== 'resolved') {
      want.open[h.severity!]! += 1;
      want.opensev.push(id);
      if (h.silenced === '1' || Number(h.silenced_until ?? 0) > 0) want.silencedOpen.push(id);
    }
    const created = Number(h.created_at);
    const day = Math.floor(created / DAY);
    const pre = `${day}/${h.severity}|${h.integration || '-'}|`;
    const add = (k: string) => (want.agg[pre + k] = (want.agg[pre + k] ?? 0) + 1);
    add('n');
    if (h.ack_at) {
      add('a');
      add(`ta${bucketOf(Number(h.ack_at) - created)}`);
    }
    if (h.resolved_at) {
      add('r');
      add(`tr${bucketOf(Number(h.resolved_at) - created)}`);
    }
    if (h.breached === '1') add('b');
  }
  const cnt = await readCounts(redis, keys);
  const have = {
    open: Object.fromEntries(SEVERITIES.map((s) => [s, cnt.open[s]])),
    states: { ...cnt.states } as Record<string, number>,
    index: {} as Record<string, string[]>,
    opensev: (await redis.zrange(keys.openBySeverity(), 0, -1)).sort(),
    silencedOpen: (await redis.zrange(keys.silencedIndex(), 0, -1)).sort(),
    agg: {} as Record<string, number>,
  };
  for (const st of ['triggered', 'acknowledged', 'resolved'] as const)
    have.index[st] = (await redis.zrange(keys.stateIndex(st), 0, -1)).sort();
  for (const st of Object.keys(want.index)) want.index[st]!.sort();
  want.opensev.sort();
  want.silencedOpen.sort();
  let c2 = '0';
  do {
    const [next, found] = await redis.scan(c2, 'MATCH', `${keys.prefix}agg:d:*`, 'COUNT', 1000);
    c2 = next;
    for (const k of found) {
      const day = k.slice(k.lastIndexOf(':') + 1);
      for (const [f, v] of Object.entries(await redis.hgetall(k)))
        if (Number(v) !== 0) have.agg[`${day}/${f}`] = Number(v);
    }
  } while (c2 !== '0');
  return { ids, want, have };
}
