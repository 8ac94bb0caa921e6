import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

type Field = { key: string; field: string; value: string | number };

/**
 * The records of the Alertmanager silences opsbot makes or expires: one hash per silence
 * (ref = `<origin>|<integration>`) with Alertmanager's id once known and `want` (on/off). Writes that
 * must land with other effects come back as plan parts (for the repository's atomic apply).
 */
export interface AmSilenceStore {
  /** Writes `fields` into the record and forgets that the chat was told of an outage. */
  recordPlan(
    ref: string,
    fields: Record<string, string | number>,
  ): { hset: Field[]; hdel: { key: string; field: string }[] };
  /** Writes `fields` into the record. */
  setPlan(ref: string, fields: Record<string, string | number>): { hset: Field[] };
  /** Applies the plan only while the record's fields still hold these values. */
  guardPlan(
    ref: string,
    eq: Record<string, string>,
  ): { guards: { key: string; field: string; eq: string }[] };
  /** Deletes the record. */
  deletePlan(ref: string): { del: string[] };
  /** The record's fields ({} when there is none). */
  record(ref: string): Promise<Record<string, string>>;
  /** Which of these refs have a record. */
  existing(refs: string[]): Promise<string[]>;
  /** Alertmanager ids known for these refs. */
  amIds(refs: string[]): Promise<string[]>;
  /** Lets the record expire by itself at `at` (ms). */
  expireAt(ref: string, at: number): Promise<void>;
  /** A few of an incident's alerts (one HSCAN page), parsed. */
  sampleAlerts(incident: string): Promise<unknown[]>;
  /** Keeps a timer's claim until `until` while its outside call is in flight. */
  holdTimer(timerId: string, until: number): Promise<void>;
}

export function createAmSilenceStore(deps: { redis: Redis; keys: Keys }): AmSilenceStore {
  const { redis, keys } = deps;
  const fieldsOf = (ref: string, fields: Record<string, string | number>) => {
    const key = keys.amSilence(ref);
    return Object.entries(fields).map(([field, value]) => ({ key, field, value }));
  };
  return {
    recordPlan(ref, fields) {
      return {
        hset: fieldsOf(ref, fields),
        hdel: [{ key: keys.amSilence(ref), field: 'notified' }],
      };
    },
    setPlan(ref, fields) {
      return { hset: fieldsOf(ref, fields) };
    },
    guardPlan(ref, eq) {
      const key = keys.amSilence(ref);
      return { guards: Object.entries(eq).map(([field, v]) => ({ key, field, eq: v })) };
    },
    deletePlan(ref) {
      return { del: [keys.amSilence(ref)] };
    },
    async record(ref) {
      return redis.hgetall(keys.amSilence(ref));
    },
    async existing(refs) {
      const pipe = redis.pipeline();
      for (const r of refs) pipe.exists(keys.amSilence(r));
      const res = (await pipe.exec()) ?? [];
      return refs.filter((_, i) => res[i]?.[1] === 1);
    },
    async amIds(refs) {
      const pipe = redis.pipeline();
      for (const r of refs) pipe.hget(keys.amSilence(r), 'am_id');
      return ((await pipe.exec()) ?? [])
        .map(([, v]) => v as string | null)
        .filter(Boolean) as string[];
    },
    async expireAt(ref, at) {
      await redis.pexpireat(keys.amSilence(ref), at);
    },
    async sampleAlerts(incident) {
      const [, first] = await redis.hscan(keys.alerts(incident), 0, 'COUNT', 10);
      const out: unknown[] = [];
      for (let i = 1; i < first.length; i += 2) out.push(JSON.parse(first[i]!) as unknown);
      return out;
    },
    async holdTimer(timerId, until) {
      await redis.zadd(keys.timerInflight(), 'XX', until, timerId);
    },
  };
}
