import type { ScheduleConfig } from '../config.js';

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

/** The rotation shift containing t (before `start` nobody is on call by rotation). */
function rotationShift(s: ScheduleConfig, t: number): OnCallShift | undefined {
  const { start, shift, members } = s.rotation;
  if (t < start || members.length === 0) return undefined;
  const n = Math.floor((t - start) / shift);
  return {
    person: members[n % members.length]!,
    from: start + n * shift,
    to: start + (n + 1) * shift,
    override: false,
  };
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
