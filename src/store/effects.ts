import type { TimerSpec } from '../domain/timers.js';
import type { TimelineEntry } from '../domain/incident.js';
import type { OutboxEntry } from '../domain/outbox.js';

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
/** A plan's result in a batch: 'error' when the script failed on it (the others still applied). */
export type BatchEffectResult = EffectResult | 'error';

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

/**
 * The plan as apply_effects.lua reads it: timeline entries and timer data go as JSON strings the
 * script stores as they are (decoding them into Lua tables only to encode them again cost more than
 * the rest of a fired level), with the few fields the script itself reads beside them. `read`: a
 * hash key whose fields the script answers with after the change (see apply_effects.lua).
 */
export function encodePlan(plan: EffectPlan, read?: string): string {
  if (!plan.timeline && !plan.timers) return JSON.stringify(read ? { ...plan, read } : plan);
  return JSON.stringify({
    ...plan,
    read,
    timeline: plan.timeline?.map(({ inc, entry }) => ({
      inc,
      json: JSON.stringify(entry),
      type: entry.type,
      actor: entry.actor,
    })),
    timers: plan.timers?.map(({ id, due, data }) => ({
      id,
      due,
      json: JSON.stringify(data),
      kind: data.kind,
      inc: 'inc' in data ? data.inc : undefined,
    })),
  });
}
