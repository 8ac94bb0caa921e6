import { randomBytes } from 'node:crypto';
import type { AuditActor, AuditLog } from '../audit.js';
import type { Clock } from '../clock.js';
import type { OpsbotConfig, ScheduleConfig } from '../config.js';
import type { Locale, Translate } from '../i18n.js';
import type { IncidentRepository } from '../store/incidents.js';
import { parseChatKey } from '../incidents/routing.js';
import type { Logger } from '../logger.js';
import { own } from '../own.js';
import { zonedDay } from '../timezone.js';
import type { OverrideStore } from '../store/overrides.js';
import type { TradeStore } from '../store/trades.js';
import type { TradeRecord } from '../domain/trades.js';
import { onCallAt, shiftsBetween, type ShiftPiece } from './schedule.js';
import type { TimerDataOf, TimerService } from '../scheduler/timers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** How far ahead a /cover or /swap looks for the shifts it names. */
export const TRADE_HORIZON_MS = 60 * DAY;
/** A pending request expires after this long (or at the shift start, if that comes first). */
export const TRADE_TTL_MS = 24 * HOUR;

export type { TradeRecord, TradeState } from '../domain/trades.js';

export type TradeProblem =
  | 'unknown-schedule'
  | 'unknown-person'
  | 'not-on-shift'
  | 'self'
  | 'no-candidates'
  | 'bad-date'
  | 'no-shift-that-day'
  | 'started'
  | 'no-other-shift';

export type PlannedTrade = Omit<
  TradeRecord,
  'id' | 'state' | 'chat' | 'createdAt' | 'declined' | 'requester' | 'requesterId'
>;

export type DecideOutcome =
  'gone' | 'done' | 'expired' | 'self' | 'forbidden' | 'accepted' | 'declined' | 'declined_one';

/** Consecutive pieces of one person merged: "a shift" as people speak of it. */
function stretches(pieces: ShiftPiece[]): { person: string; from: number; to: number }[] {
  const out: { person: string; from: number; to: number }[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (last && last.person === p.person && last.to === p.from) last.to = p.to;
    else out.push({ person: p.person, from: p.from, to: p.to });
  }
  return out;
}

/**
 * Shift cover (/cover) and swaps (/swap): requests stored in Redis, decided by one atomic script
 * (trade_decide.lua) that also writes the overrides, so escalation and /oncall see the result at
 * once; pending requests expire by a durable timer that edits the request message.
 */
export function createShiftTrades(deps: {
  /** The stored requests (built by the app over Redis). */
  store: TradeStore;
  overrides: Pick<OverrideStore, 'active'>;
  clock: Clock;
  config: OpsbotConfig;
  repo: IncidentRepository;
  timers: TimerService;
  audit: AuditLog;
  t: Translate;
  localeOf: (chatId: number) => Promise<Locale>;
  logger: Logger;
  /** How a request looks in the chat (the Telegram layer's view). */
  view: { render(rec: TradeRecord, locale: Locale): string };
}) {
  const { store, clock, config, repo, timers, audit } = deps;

  const overridesOf = (schedule: string) => deps.overrides.active(schedule, clock.now());

  const isAdmin = (roles: string[]) => roles.includes('admin');

  /** 24 h, or the shift start if sooner (time already begun: its end, if sooner). */
  function expiryFor(now: number, startsAt: number, endsAt: number): number {
    // a request for time already begun (cover from now) stays open until that time is over
    const edge = startsAt > now ? startsAt : endsAt;
    return Math.min(now + TRADE_TTL_MS, edge);
  }

  /**
   * `/cover <schedule> <duration> [person]`: the requester's time on call from now (or from the
   * start of their next shift within 60 days when not on call now) for `durationMs`, cut at the
   * end of that shift. An admin who is not on call asks for whoever is on call now.
   */
  async function planCover(
    schedule: string,
    requester: string,
    durationMs: number,
    target?: string,
  ): Promise<PlannedTrade | TradeProblem> {
    const s = own(config.schedules, schedule);
    if (!s) return 'unknown-schedule';
    if (target !== undefined && !own(config.people, target)) return 'unknown-person';
    const now = clock.now();
    const extra = await overridesOf(schedule);
    const all = stretches(shiftsBetween(s, now, now + TRADE_HORIZON_MS, extra));
    let shift = all.find((x) => x.person === requester);
    const admin = isAdmin(own(config.people, requester)?.roles ?? []);
    if (!shift && admin) {
      const cur = onCallAt(s, now, extra);
      shift = cur ? all.find((x) => x.person === cur.person) : undefined;
    }
    if (!shift) return 'not-on-shift';
    const owner = shift.person;
    if (target === owner) return 'self';
    const from = Math.max(now, shift.from);
    const to = Math.min(from + durationMs, shift.to);
    const candidates = target
      ? [target]
      : [...new Set(s.rotation.members)].filter((m) => m !== owner);
    if (candidates.length === 0) return 'no-candidates';
    return {
      kind: 'cover',
      schedule,
      owner,
      target: target ?? '',
      candidates,
      from,
      to,
      expiresAt: expiryFor(now, from, to),
    };
  }

  /**
   * `/swap <schedule> <date> <person>`: the requester's shift starting on `date` (a day in the
   * schedule's handoff_tz, else UTC) for `other`'s next shift after it. An admin without a shift
   * that day swaps the first shift starting that day.
   */
  async function planSwap(
    schedule: string,
    requester: string,
    date: string,
    other: string,
  ): Promise<PlannedTrade | TradeProblem> {
    const s: ScheduleConfig | undefined = own(config.schedules, schedule);
    if (!s) return 'unknown-schedule';
    if (!own(config.people, other)) return 'unknown-person';
    const day = zonedDay(s.rotation.handoff_tz ?? 'UTC', date);
    if (!day) return 'bad-date';
    const now = clock.now();
    if (day.from > now + TRADE_HORIZON_MS) return 'no-shift-that-day';
    const extra = await overridesOf(schedule);
    const inDay = stretches(shiftsBetween(s, day.from, day.to, extra)).filter(
      (x) => x.from >= day.from && x.from < day.to,
    );
    const admin = isAdmin(own(config.people, requester)?.roles ?? []);
    const mine =
      inDay.find((x) => x.person === requester) ??
      (admin ? inDay.find((x) => x.person !== other) : undefined);
    if (!mine) return admin ? 'no-shift-that-day' : 'not-on-shift';
    if (mine.person === other) return 'self';
    if (mine.from <= now) return 'started';
    const theirs = stretches(shiftsBetween(s, mine.from, mine.from + TRADE_HORIZON_MS, extra)).find(
      (x) => x.person === other && x.from > mine.from,
    );
    if (!theirs) return 'no-other-shift';
    return {
      kind: 'swap',
      schedule,
      owner: mine.person,
      target: other,
      candidates: [other],
      from: mine.from,
      to: mine.to,
      other,
      from2: theirs.from,
      to2: theirs.to,
      expiresAt: expiryFor(now, mine.from, mine.to),
    };
  }

  const get = (id: string) => store.get(id);

  /** Stores a planned request and arms its expiry; the caller posts the message and attaches it. */
  async function create(
    plan: PlannedTrade,
    requester: AuditActor,
    chat: string,
  ): Promise<TradeRecord> {
    const id = randomBytes(16).toString('hex');
    const now = clock.now();
    await store.insert(id, plan, requester, chat, now);
    await repo.apply({
      timers: [
        {
          id: `trade:${id}`,
          due: plan.expiresAt,
          data: { kind: 'trade', id, due: plan.expiresAt },
        },
      ],
    });
    timers.notify();
    await audit.append(`${plan.kind}.request`, requester, {
      id,
      schedule: plan.schedule,
      owner: plan.owner,
      asked: plan.candidates,
      from: plan.from,
      to: plan.to,
      ...(plan.other ? { other: plan.other, from2: plan.from2, to2: plan.to2 } : {}),
      expires_at: plan.expiresAt,
    });
    return (await get(id))!;
  }

  const attachMessage = (id: string, messageId: number) => store.attachMessage(id, messageId);

  /** One Accept/Decline press; the script decides who may and applies the overrides. */
  async function decide(
    id: string,
    who: AuditActor,
    accept: boolean,
  ): Promise<{ outcome: DecideOutcome; rec?: TradeRecord }> {
    const raw = await store.decide(id, who, accept, clock.now());
    // an expired request reads as expired, whether its timer has fired yet or not
    const outcome = (
      raw === 'done:expired' ? 'expired' : raw.startsWith('done:') ? 'done' : raw
    ) as DecideOutcome;
    const rec = await get(id);
    const kind = rec?.kind ?? 'cover';
    if (outcome === 'accepted' || outcome === 'declined' || outcome === 'declined_one')
      await audit.append(`${kind}.${outcome === 'accepted' ? 'accept' : 'decline'}`, who, {
        id,
        schedule: rec?.schedule,
        owner: rec?.owner,
        ...(outcome === 'accepted' && rec ? { from: rec.appliedFrom ?? rec.from, to: rec.to } : {}),
      });
    else if (outcome === 'self' || outcome === 'forbidden')
      await audit.append(`${kind}.refused`, who, { id, reason: outcome });
    return { outcome, rec };
  }

  /** The request message in each state, made by the Telegram layer (HTML). */
  const render = (rec: TradeRecord, locale: Locale): string => deps.view.render(rec, locale);

  async function expire(timerId: string, data: TimerDataOf<'trade'>) {
    const { id } = data;
    const settle = { once: timerId, release: timerId };
    const rec = await get(id);
    if (!rec || rec.state !== 'pending') return void (await repo.apply(settle));
    const locale = await deps.localeOf(parseChatKey(rec.chat).chatId);
    const r = await repo.apply({
      ...settle,
      ...store.expiryEffects(id),
      outbox: rec.messageId
        ? [
            {
              chat: rec.chat,
              kind: 'edit',
              data: {
                message_id: rec.messageId,
                text: render({ ...rec, state: 'expired' }, locale),
              },
              coalesce: `trade:${id}`,
            },
          ]
        : [],
    });
    if (r === 'ok')
      await audit.append(`${rec.kind}.expired`, 'opsbot', { id, schedule: rec.schedule });
  }
  timers.register('trade', expire);

  return { planCover, planSwap, create, attachMessage, decide, get, render };
}

export type ShiftTrades = ReturnType<typeof createShiftTrades>;
