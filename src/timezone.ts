/** Wall-clock reading in an IANA zone: calendar fields, 0-based month aside (1–12 here). */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

// one formatter per zone: building an Intl.DateTimeFormat is far costlier than using one
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True for a time zone name this runtime knows (`Europe/Berlin`, `UTC`, ...). */
export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** What a clock in `zone` reads at instant t. */
export function wallClock(zone: string, t: number): WallClock {
  const w = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of formatter(zone).formatToParts(new Date(t))) {
    if (p.type in w) w[p.type as keyof WallClock] = Number(p.value);
  }
  return w;
}

/** Offset of `zone` from UTC at instant t, in ms (positive east of Greenwich). */
export function zoneOffset(zone: string, t: number): number {
  const w = wallClock(zone, t);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - (t - (t % 1000));
}

/**
 * The instant at which a clock in `zone` reads `wall` (a wall-clock time encoded as a UTC
 * timestamp); in a DST gap or overlap, the reading the offset before or after settles on.
 */
export function wallToInstant(zone: string, wall: number): number {
  let t = wall - zoneOffset(zone, wall);
  t = wall - zoneOffset(zone, t); // second pass settles a guess that straddled a DST change
  return t;
}

/** Start and end instants of the calendar day `YYYY-MM-DD` in `zone`; undefined when malformed. */
export function zonedDay(zone: string, date: string): { from: number; to: number } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const wall = Date.UTC(y, mo - 1, d);
  const back = new Date(wall);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    return undefined;
  return { from: wallToInstant(zone, wall), to: wallToInstant(zone, wall + 86_400_000) };
}

/** `2026-11-24 21:30 UTC` */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Like formatTime, in an IANA zone when one is given (`2026-03-30 09:00 Europe/Berlin`). */
export function formatTimeIn(ms: number, zone?: string): string {
  if (!zone) return formatTime(ms);
  const w = wallClock(zone, ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${w.year}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)} ${zone}`;
}
