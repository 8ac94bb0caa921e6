import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AuditActor, AuditLog } from '../audit.js';
import type { Clock } from '../clock.js';
import type { OpsbotConfig, ScheduleConfig } from '../config.js';
import type { Locale, Translate } from '../i18n.js';
import type { IncidentRepository } from '../store/incidents.js';
import { parseChatKey } from '../incidents/routing.js';
import type { Logger } from '../logger.js';
import { escapeHtml } from '../telegram/html.js';
import { formatTimeIn } from '../timezone.js';
import { own } from '../own.js';
import type { Keys } from '../store/keys.js';
import type { Scripts } from '../store/scripts.js';
import { zonedDay } from '../timezone.js';
import { readRuntimeOverrides } from './engine.js';
import { onCallAt, shiftsBetween, type ShiftPiece } from './schedule.js';
import type { TimerData, TimerService } from './timers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** How far ahead a /cover or /swap looks for the shifts it names. */
export const TRADE_HORIZON_MS = 60 * DAY;
/** A pending request expires after this long (or at the shift start, if that comes first). */
export const TRADE_TTL_MS = 24 * HOUR;

export type TradeState = 'pending' | 'accepted' | 'declined' | 'expired';

/** A /cover or /swap request as stored in Redis (`keys.trade(id)`). */
export interface TradeRecord {
  id: string;
  kind: 'cover' | 'swap';
  schedule: string;
  requester: string;
  requesterId: number;
  /** Whose shift is covered or swapped (the requester, or the on-call person an admin asked for). */
  owner: string;
  /** The person asked; '' for an open /cover (any other member of the schedule). */
  target: string;
  candidates: string[];
  declined: string[];
  /** The owner's time to cover, or (swap) the owner's shift. */
  from: number;
  to: number;
  /** Swap: the other person's shift. */
  other?: string;
  from2?: number;
  to2?: number;
  state: TradeState;
  chat: string;
  messageId?: number;
  createdAt: number;
  expiresAt: number;
  decidedBy?: string;
  decidedAt?: number;
  /** Cover: when the accepted cover began (the acceptance, if the asked-for time had started). */
  appliedFrom?: number;
}

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
  redis: Redis;
  keys: Keys;
  scripts: Scripts;
  clock: Clock;
  config: OpsbotConfig;
  repo: IncidentRepository;
  timers: TimerService;
  audit: AuditLog;
  t: Translate;
  localeOf: (chatId: number) => Promise<Locale>;
  logger: Logger;
}) {
  const { redis, keys, scripts, clock, config, repo, timers, audit, t } = deps;

  const overridesOf = (schedule: string) =>
    readRuntimeOverrides(redis, keys, schedule, clock.now());

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

  async function get(id: string): Promise<TradeRecord | undefined> {
    const h = await redis.hgetall(keys.trade(id));
    if (!h.id) return undefined;
    const num = (v: string | undefined) => (v ? Number(v) : undefined);
    return {
      id: h.id,
      kind: h.kind === 'swap' ? 'swap' : 'cover',
      schedule: h.schedule ?? '',
      requester: h.requester ?? '',
      requesterId: Number(h.requester_id),
      owner: h.owner ?? '',
      target: h.target ?? '',
      candidates: JSON.parse(h.candidates ?? '[]') as string[],
      declined: JSON.parse(h.declined ?? '[]') as string[],
      from: Number(h.from),
      to: Number(h.to),
      ...(h.other ? { other: h.other, from2: num(h.from2), to2: num(h.to2) } : {}),
      state: (h.state ?? 'pending') as TradeState,
      chat: h.chat ?? '',
      messageId: num(h.message_id),
      createdAt: Number(h.created_at),
      expiresAt: Number(h.expires_at),
      decidedBy: h.decided_by || undefined,
      decidedAt: num(h.decided_at),
      appliedFrom: num(h.applied_from),
    };
  }

  /** Stores a planned request and arms its expiry; the caller posts the message and attaches it. */
  async function create(
    plan: PlannedTrade,
    requester: AuditActor,
    chat: string,
  ): Promise<TradeRecord> {
    const id = randomBytes(16).toString('hex');
    const now = clock.now();
    const k = keys.trade(id);
    await redis
      .multi()
      .hset(k, {
        id,
        kind: plan.kind,
        schedule: plan.schedule,
        requester: requester.name,
        requester_id: requester.telegramId,
        owner: plan.owner,
        target: plan.target,
        candidates: JSON.stringify(plan.candidates),
        declined: '[]',
        from: plan.from,
        to: plan.to,
        ...(plan.other ? { other: plan.other, from2: plan.from2, to2: plan.to2 } : {}),
        state: 'pending',
        chat,
        created_at: now,
        expires_at: plan.expiresAt,
      })
      .pexpire(k, Math.max(0, plan.expiresAt - now) + 7 * DAY)
      .exec();
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

  async function attachMessage(id: string, messageId: number) {
    await redis.hset(keys.trade(id), 'message_id', messageId);
  }

  /** One Accept/Decline press; the script decides who may and applies the overrides. */
  async function decide(
    id: string,
    who: AuditActor,
    accept: boolean,
  ): Promise<{ outcome: DecideOutcome; rec?: TradeRecord }> {
    const raw = await scripts.tradeDecide({
      now: clock.now(),
      id,
      who: who.name,
      telegramId: String(who.telegramId),
      accept,
    });
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

  const mention = (name: string) => {
    const p = own(config.people, name);
    return p ? `<a href="tg://user?id=${p.telegram_id}">${escapeHtml(name)}</a>` : escapeHtml(name);
  };

  /** The request message in each state (HTML, every name escaped). */
  function render(rec: TradeRecord, locale: Locale): string {
    const zone = own(config.schedules, rec.schedule)?.rotation.handoff_tz;
    const at = (ms: number) => formatTimeIn(ms, zone);
    const vars = {
      schedule: escapeHtml(rec.schedule),
      owner: escapeHtml(rec.owner),
      requester: escapeHtml(rec.requester),
      from: at(rec.from),
      to: at(rec.to),
      other: escapeHtml(rec.other ?? ''),
      from2: rec.from2 ? at(rec.from2) : '',
      to2: rec.to2 ? at(rec.to2) : '',
      by: escapeHtml(rec.decidedBy ?? ''),
      expires: at(rec.expiresAt),
    };
    const head = t(locale, `${rec.kind}-request`, vars);
    switch (rec.state) {
      case 'pending':
        return [
          head,
          rec.kind === 'cover' && !rec.target
            ? t(locale, 'cover-ask-open', { people: rec.candidates.map(mention).join(', ') })
            : t(locale, 'trade-ask', { who: mention(rec.target) }),
          t(locale, 'trade-expires', vars),
        ].join('\n');
      case 'accepted':
        return [
          head,
          rec.kind === 'cover'
            ? t(locale, 'cover-accepted', { ...vars, from: at(rec.appliedFrom ?? rec.from) })
            : t(locale, 'swap-accepted', vars),
        ].join('\n');
      case 'declined':
        return [head, t(locale, 'trade-declined', vars)].join('\n');
      case 'expired':
        return [head, t(locale, 'trade-expired')].join('\n');
    }
  }

  async function expire(timerId: string, data: TimerData) {
    const id = String(data.id);
    const settle = { once: timerId, release: timerId };
    const rec = await get(id);
    if (!rec || rec.state !== 'pending') return void (await repo.apply(settle));
    const locale = await deps.localeOf(parseChatKey(rec.chat).chatId);
    const r = await repo.apply({
      ...settle,
      guards: [{ key: keys.trade(id), field: 'state', eq: 'pending' }],
      hset: [{ key: keys.trade(id), field: 'state', value: 'expired' }],
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
