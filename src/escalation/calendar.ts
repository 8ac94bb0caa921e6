import { createHash, randomBytes } from 'node:crypto';
import type { OpsbotConfig } from '../config.js';
import type { Translate } from '../i18n.js';
import { own } from '../own.js';
import type { CalendarTokenStore } from '../store/calendar-tokens.js';
import { wallClock, zoneOffset } from '../timezone.js';
import { shiftsBetween, type Override, type ShiftPiece } from './schedule.js';

const DAY = 86_400_000;
/** How far ahead a feed reaches. */
export const FEED_DAYS = 60;
/** Most events in one feed: bounds the work for a schedule with very short shifts. */
export const FEED_MAX_EVENTS = 2000;

/** One calendar event: a stretch of on-call time in a schedule. */
export interface FeedEvent extends ShiftPiece {
  schedule: string;
  zone?: string;
}

// ---------------------------------------------------------------------------------------------
// RFC 5545 text

/** Escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines. */
export function escapeText(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n');
}

/**
 * Folds one content line to at most 75 octets per physical line (RFC 5545 3.1): continuation lines
 * begin with a space; a UTF-8 sequence is never split.
 */
export function foldLine(line: string): string {
  const out: string[] = [];
  let cur = '';
  let octets = 0;
  for (const ch of line) {
    const n = Buffer.byteLength(ch, 'utf8');
    const limit = out.length === 0 ? 75 : 74; // continuation lines spend one octet on the space
    if (octets + n > limit) {
      out.push(cur);
      cur = '';
      octets = 0;
    }
    cur += ch;
    octets += n;
  }
  out.push(cur);
  return out.join('\r\n ');
}

const two = (n: number) => String(n).padStart(2, '0');

/** `20260105T090000Z` */
export function utcStamp(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}T${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
}

/** `20260105T100000`: the wall-clock reading in `zone`. */
function localStamp(zone: string, t: number): string {
  const w = wallClock(zone, t);
  return `${w.year}${two(w.month)}${two(w.day)}T${two(w.hour)}${two(w.minute)}${two(w.second)}`;
}

function offsetText(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  const m = Math.round(Math.abs(ms) / 60_000);
  return `${sign}${two(Math.floor(m / 60))}${two(m % 60)}`;
}

/**
 * A VTIMEZONE for `zone` valid from `from` to `to`, built from the runtime's zone data: one
 * observance for the offset at `from`, then one per offset change in the window (found by a daily
 * scan and a binary search to the second), each without RRULE.
 */
export function vtimezone(zone: string, from: number, to: number): string[] {
  const standardOf = (t: number) => {
    const y = new Date(t).getUTCFullYear();
    return Math.min(zoneOffset(zone, Date.UTC(y, 0, 1)), zoneOffset(zone, Date.UTC(y, 6, 1)));
  };
  const obs = (at: number, before: number, after: number) => {
    const kind = after > standardOf(at) ? 'DAYLIGHT' : 'STANDARD';
    return [
      `BEGIN:${kind}`,
      // the onset as the clock read it just before (in the old offset)
      `DTSTART:${utcStamp(at + before).slice(0, 15)}`,
      `TZOFFSETFROM:${offsetText(before)}`,
      `TZOFFSETTO:${offsetText(after)}`,
      `END:${kind}`,
    ];
  };
  const start = Math.floor(from / 1000) * 1000;
  const lines = ['BEGIN:VTIMEZONE', `TZID:${zone}`];
  let off = zoneOffset(zone, start);
  lines.push(...obs(start, off, off));
  for (let t = start; t < to; t += DAY) {
    const next = Math.min(t + DAY, to);
    const offNext = zoneOffset(zone, next);
    if (offNext === off) continue;
    let lo = t;
    let hi = next; // offset(lo) = off, offset(hi) = offNext
    while (hi - lo > 1000) {
      const mid = Math.floor((lo + hi) / 2000) * 1000;
      if (mid <= lo) break;
      if (zoneOffset(zone, mid) === off) lo = mid;
      else hi = mid;
    }
    lines.push(...obs(hi, off, offNext));
    off = offNext;
  }
  lines.push('END:VTIMEZONE');
  return lines;
}

/** Stable per event, so calendar apps update an event instead of adding a copy. */
export function eventUid(e: Pick<FeedEvent, 'schedule' | 'from' | 'person'>): string {
  return `${e.schedule}-${Math.floor(e.from / 1000)}-${e.person}@opsbot`;
}

/** A whole VCALENDAR (CRLF line endings, folded lines). */
export function buildIcs(o: {
  name: string;
  events: FeedEvent[];
  now: number;
  summary: (e: FeedEvent) => string;
  description: (e: FeedEvent) => string | undefined;
}): string {
  const zones = [...new Set(o.events.map((e) => e.zone).filter((z): z is string => !!z))];
  const lo = Math.min(o.now, ...o.events.map((e) => e.from)) - DAY;
  const hi = Math.max(o.now, ...o.events.map((e) => e.to)) + DAY;
  const when = (prop: string, e: FeedEvent, t: number) =>
    e.zone ? `${prop};TZID=${e.zone}:${localStamp(e.zone, t)}` : `${prop}:${utcStamp(t)}`;
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//opsbot//on-call schedules//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${escapeText(o.name)}`,
    ...zones.flatMap((z) => vtimezone(z, lo, hi)),
  ];
  const stamp = utcStamp(o.now);
  for (const e of o.events) {
    const desc = o.description(e);
    lines.push(
      'BEGIN:VEVENT',
      `UID:${eventUid(e)}`,
      `DTSTAMP:${stamp}`,
      when('DTSTART', e, e.from),
      when('DTEND', e, e.to),
      `SUMMARY:${escapeText(o.summary(e))}`,
      ...(desc ? [`DESCRIPTION:${escapeText(desc)}`] : []),
      'TRANSP:OPAQUE',
      'END:VEVENT',
    );
  }
  lines.push('END:VCALENDAR');
  return lines.map(foldLine).join('\r\n') + '\r\n';
}

// ---------------------------------------------------------------------------------------------
// Feeds

/** The on-call pieces of `schedule` from now to 60 days ahead, with runtime overrides, covers and swaps. */
export async function scheduleEvents(
  deps: {
    config: OpsbotConfig;
    /** The schedule's runtime overrides (/override, covers, swaps) still in force at `since`. */
    overrides: (schedule: string, since: number) => Promise<Override[]>;
  },
  schedule: string,
  now: number,
): Promise<FeedEvent[]> {
  const s = own(deps.config.schedules, schedule);
  if (!s) return [];
  // overrides that ended during the shift under way still shape its pieces: keep them, so the
  // UIDs of what is ahead do not change when a cover ends
  const extra = await deps.overrides(schedule, now - s.rotation.shift);
  const zone = s.rotation.handoff_tz;
  return shiftsBetween(s, now, now + FEED_DAYS * DAY, extra, FEED_MAX_EVENTS).map((p) => ({
    ...p,
    schedule,
    ...(zone ? { zone } : {}),
  }));
}

/** Text of the feeds, in the deployment's language. */
export function feedText(t: Translate, config: OpsbotConfig) {
  const l = config.locale;
  const description = (e: FeedEvent) =>
    e.kind === 'cover'
      ? t(l, 'cal-desc-cover', { person: e.person, for: e.for ?? '' })
      : e.kind === 'swap'
        ? t(l, 'cal-desc-swap', { person: e.person, for: e.for ?? '' })
        : e.override
          ? t(l, 'cal-desc-override', { person: e.person })
          : undefined;
  return {
    schedule: (name: string) => ({
      name: t(l, 'cal-name-schedule', { schedule: name }),
      summary: (e: FeedEvent) => t(l, 'cal-summary-schedule', { person: e.person, schedule: name }),
      description,
    }),
    person: (name: string) => ({
      name: t(l, 'cal-name-person', { person: name }),
      summary: (e: FeedEvent) => t(l, 'cal-summary-person', { person: name, schedule: e.schedule }),
      description,
    }),
  };
}

/** Schedules a person is a member of (their personal token may read these feeds). */
export function schedulesOf(config: OpsbotConfig, person: string): string[] {
  return Object.entries(config.schedules)
    .filter(([, s]) => s.rotation.members.includes(person))
    .map(([n]) => n);
}

// ---------------------------------------------------------------------------------------------
// Personal tokens

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * Personal calendar tokens: only the sha256 of a token is stored (key → owner), so a Redis dump
 * reveals none. One token per person: minting another revokes the one before.
 */
export function createCalendarTokens(deps: { store: CalendarTokenStore }) {
  const { store } = deps;
  return {
    async mint(person: string): Promise<string> {
      const token = randomBytes(24).toString('base64url');
      await store.replace(person, sha256(token));
      return token;
    },
    async revoke(person: string): Promise<boolean> {
      return store.revoke(person);
    },
    /** The owner of a personal token, or undefined (looked up by its hash). */
    async ownerOf(token: string): Promise<string | undefined> {
      if (!token) return undefined;
      return store.ownerOf(sha256(token));
    },
  };
}
