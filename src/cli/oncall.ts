/** `opsbot oncall`: who is on call at a time, per schedule, with Redis overrides when asked. */
import type { OpsbotConfig } from '../config.js';
import { nextOnCall, onCallAt, type OnCallShift, type Override } from '../escalation/schedule.js';
import { isoMinute } from './common.js';

export interface OnCallRow {
  schedule: string;
  /** Who is on call at `at`, with the shift (or override) holding them. */
  current: OnCallShift | null;
  next: OnCallShift | null;
}

/** Who is on call at `at` in each schedule (or the one named); `overrides` are runtime ones from Redis. */
export function onCallRows(
  config: OpsbotConfig,
  at: number,
  names: string[],
  overrides: Record<string, Override[]> = {},
): OnCallRow[] {
  return names.map((name) => {
    const s = config.schedules[name]!;
    const extra = overrides[name] ?? [];
    return {
      schedule: name,
      current: onCallAt(s, at, extra) ?? null,
      next: nextOnCall(s, at, extra) ?? null,
    };
  });
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The `--json` form: times as ISO strings. */
export function onCallJson(at: number, rows: OnCallRow[]) {
  const shift = (s: OnCallShift | null) =>
    s && {
      person: s.person,
      from: iso(s.from),
      to: iso(s.to),
      override: s.override,
      ...(s.kind ? { kind: s.kind, for: s.for } : {}),
    };
  return {
    at: iso(at),
    schedules: rows.map((r) => ({
      schedule: r.schedule,
      on_call: shift(r.current),
      next: shift(r.next),
    })),
  };
}

/** ` (override)`, or for an accepted /cover or /swap ` (cover for alice)`. */
function overrideNote(s: OnCallShift): string {
  if (!s.override) return '';
  return s.kind ? ` (${s.kind} for ${s.for ?? '?'})` : ' (override)';
}

/** The text form, one line per schedule. */
export function onCallLines(at: number, rows: OnCallRow[]): string[] {
  return [
    `on call at ${isoMinute(at)}:`,
    ...rows.map((r) => {
      const cur = r.current
        ? `${r.current.person} until ${isoMinute(r.current.to)}${overrideNote(r.current)}`
        : 'nobody';
      const nxt = r.next ? `; next ${r.next.person} from ${isoMinute(r.next.from)}` : '';
      return `  ${r.schedule}: ${cur}${nxt}`;
    }),
  ];
}
