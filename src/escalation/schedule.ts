import type { Override, OverrideKind } from '../domain/oncall.js';
import type { ScheduleConfig } from '../config.js';
import { zoneOffset } from '../timezone.js';

export type { Override, OverrideKind } from '../domain/oncall.js';

export interface OnCallShift {
  person: string;
  from: number;
  to: number;
  override: boolean;
  kind?: OverrideKind;
  /** For a cover or swap: the person whose shift this was. */
  for?: string;
}

const DAY = 86_400_000;

/** The instant at which the wall clock in `zone` reads `wall` (wall time encoded as a UTC timestamp). */
function wallToInstant(zone: string, wall: number): number {
  let t = wall - zoneOffset(zone, wall);
  t = wall - zoneOffset(zone, t); // second pass settles a guess that straddled a DST change
  return t;
}

/**
 * Start of shift n. With `handoff_tz` (and a shift of whole days) handovers keep the wall-clock
 * time of `start` in that zone, so a 09:00 handover stays at 09:00 across daylight-saving changes;
 * without it shifts are fixed lengths of absolute time.
 */
function shiftStart(s: ScheduleConfig, n: number): number {
  const { start, shift, handoff_tz: zone } = s.rotation;
  if (!zone || shift % DAY !== 0) return start + n * shift;
  const wallStart = start + zoneOffset(zone, start);
  return wallToInstant(zone, wallStart + n * shift);
}

/** The rotation shift containing t (before `start` nobody is on call by rotation). */
function rotationShift(s: ScheduleConfig, t: number): OnCallShift | undefined {
  const { start, shift, members } = s.rotation;
  if (t < start || members.length === 0) return undefined;
  let n = Math.floor((t - start) / shift);
  // a zone's DST changes move handovers by an hour or so: settle on the shift that really holds t
  let from = shiftStart(s, n);
  while (n > 0 && from > t) from = shiftStart(s, --n);
  let to = shiftStart(s, n + 1);
  while (to <= t) {
    from = to;
    to = shiftStart(s, ++n + 1);
  }
  return { person: members[n % members.length]!, from, to, override: false };
}

/**
 * Who is on call at time t: the latest-starting override covering t wins over the rotation.
 * `extra` are runtime overrides (from /override), treated like configured ones.
 */
export function onCallAt(
  s: ScheduleConfig,
  t: number,
  extra: Override[] = [],
): OnCallShift | undefined {
  const active = ([...s.overrides, ...extra] as Override[])
    .filter((o) => o.from <= t && t < o.to)
    .sort((a, b) => b.from - a.from);
  const rot = rotationShift(s, t);
  if (active.length) {
    const o = active[0]!;
    return {
      person: o.person,
      from: o.from,
      to: o.to,
      override: true,
      ...(o.kind ? { kind: o.kind } : {}),
      ...(o.for ? { for: o.for } : {}),
    };
  }
  return rot;
}

/** The next change of on-call person strictly after `t` (within a horizon of ~ 2 rotation cycles). */
export function nextOnCall(
  s: ScheduleConfig,
  t: number,
  extra: Override[] = [],
): OnCallShift | undefined {
  const current = onCallAt(s, t, extra);
  const boundaries = new Set<number>();
  if (current) boundaries.add(current.to);
  for (const o of [...s.overrides, ...extra]) {
    if (o.from > t) boundaries.add(o.from);
    if (o.to > t) boundaries.add(o.to);
  }
  const rot = rotationShift(s, Math.max(t, s.rotation.start));
  if (rot) boundaries.add(rot.to);
  if (t < s.rotation.start) boundaries.add(s.rotation.start);
  for (const b of [...boundaries].sort((a, c) => a - c)) {
    const who = onCallAt(s, b, extra);
    // the change happens at b, even when b falls inside the next person's rotation shift (the
    // end of an override): report it from b
    if (who && (!current || who.person !== current.person || who.from !== current.from))
      return { ...who, from: Math.max(who.from, b) };
  }
  return undefined;
}

/** One stretch of on-call time as a calendar shows it. */
export interface ShiftPiece extends OnCallShift {
  /** The override or rotation shift it comes from; pieces of one source and person are merged. */
  source: string;
}

/**
 * Who is on call from `from` to `to`, as consecutive pieces: each rotation shift, cut where an
 * override begins or ends. The first piece keeps its real start (it may begin before `from`), so
 * its identity does not move as time passes. At most `max` pieces: the work is bounded by the
 * number of shifts and overrides in the window, never by the schedule's history.
 */
export function shiftsBetween(
  s: ScheduleConfig,
  from: number,
  to: number,
  extra: Override[] = [],
  max = 2000,
): ShiftPiece[] {
  const first = rotationShift(s, from);
  let b0 = first ? first.from : from;
  const overrides: Override[] = [...s.overrides, ...extra];
  for (const o of overrides) if (o.from <= from && o.to > from) b0 = Math.min(b0, o.from);
  // overrides that ended since the shift under way began still cut it (its pieces keep their starts)
  const all = overrides.filter((o) => o.to > b0 && o.from < to);
  const edges = new Set<number>([b0, to]);
  for (const o of all) {
    if (o.from > b0 && o.from < to) edges.add(o.from);
    if (o.to > b0 && o.to < to) edges.add(o.to);
  }
  if (s.rotation.start > b0 && s.rotation.start < to) edges.add(s.rotation.start);
  // rotation handovers in the window (bounded: stop once `max` pieces could not hold more)
  let r = rotationShift(s, Math.max(b0, s.rotation.start));
  for (let n = 0; r && r.to < to && n < max; n++) {
    edges.add(r.to);
    r = rotationShift(s, r.to);
  }
  const points = [...edges].sort((a, b) => a - b);
  const out: ShiftPiece[] = [];
  for (let i = 0; i + 1 < points.length && out.length < max; i++) {
    const start = points[i]!;
    const end = points[i + 1]!;
    const who = onCallAt(s, start, extra);
    if (!who) continue;
    const source = who.override
      ? `o:${who.from}:${who.to}:${who.person}`
      : `r:${rotationShift(s, start)?.from ?? start}`;
    const last = out[out.length - 1];
    if (last && last.to === start && last.source === source && last.person === who.person) {
      last.to = end;
      continue;
    }
    out.push({ ...who, from: start, to: end, source });
  }
  // a piece that ends at the window's end continues past it: show its real end
  const tail = out[out.length - 1];
  if (tail && tail.to === to) {
    const real = onCallAt(s, to - 1, extra);
    if (real && real.person === tail.person) tail.to = Math.max(tail.to, real.to);
  }
  return out.filter((p) => p.to > from);
}

/**
 * The stretch `person` is on call that holds `t` or, when they are not on call at `t`, their next
 * one starting before `horizon`; consecutive pieces of the same person count as one stretch.
 */
export function stretchOf(
  s: ScheduleConfig,
  person: string,
  t: number,
  horizon: number,
  extra: Override[] = [],
): { from: number; to: number } | undefined {
  let found: { from: number; to: number } | undefined;
  for (const p of shiftsBetween(s, t, horizon, extra)) {
    if (p.person === person) {
      if (found && found.to === p.from) found.to = p.to;
      else if (!found) found = { from: p.from, to: p.to };
      else break;
    } else if (found) break;
  }
  return found;
}
