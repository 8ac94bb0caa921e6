import type { ScheduleConfig } from '../config.js';
import { zoneOffset } from '../timezone.js';

export interface Override {
  person: string;
  from: number;
  to: number;
}

export interface OnCallShift {
  person: string;
  from: number;
  to: number;
  override: boolean;
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
  const active = [...s.overrides, ...extra]
    .filter((o) => o.from <= t && t < o.to)
    .sort((a, b) => b.from - a.from);
  const rot = rotationShift(s, t);
  if (active.length) {
    const o = active[0]!;
    return { person: o.person, from: o.from, to: o.to, override: true };
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
    if (who && (!current || who.person !== current.person || who.from !== current.from)) return who;
  }
  return undefined;
}
